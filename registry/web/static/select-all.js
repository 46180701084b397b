// 全选本页: a header checkbox with data-select-all="<name>" ticks or clears every checkbox of that name.
document.querySelectorAll("input[data-select-all]").forEach(function (box) {
  box.addEventListener("change", function () {
    document.querySelectorAll('input[type="checkbox"][name="' + box.dataset.selectAll + '"]').forEach(function (row) {
      row.checked = box.checked;
    });
  });
});
