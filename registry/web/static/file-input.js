// 选择文件: a file box that speaks Chinese whatever the browser's language. The browser's own control says
// "Choose File / No file chosen" in an English browser; this puts a 选择文件 button and the chosen file's name
// (or 未选择文件) in its place. The input itself stays in the form — focusable, labelled by its field's label,
// submitted — under the button, which is only its face (hidden from screen readers, a click opens the input's
// picker); without this script the browser's own control shows.
document.querySelectorAll('input[type="file"]').forEach(function (input) {
  var pick = document.createElement("div");
  pick.className = "file-pick";
  pick.setAttribute("aria-hidden", "true");
  pick.addEventListener("click", function () { input.click(); });
  var button = document.createElement("span");
  button.className = "button secondary";
  button.textContent = "选择文件";
  var chosen = document.createElement("span");
  chosen.className = "file-chosen";
  chosen.textContent = "未选择文件";
  pick.append(button, chosen);
  input.classList.add("file-native");
  input.after(pick);
  input.addEventListener("change", function () {
    chosen.textContent = input.files.length ? input.files[0].name : "未选择文件";
  });
});
