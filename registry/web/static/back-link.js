/* "返回上一页" links (data-back): go back in history. A static file, not an inline
   `javascript:` URL, so the Content-Security-Policy can forbid inline script. Without JS the
   link simply leads to its href (the dashboard). */
(function () {
  "use strict";
  var links = document.querySelectorAll("a[data-back]");
  for (var i = 0; i < links.length; i++) {
    links[i].addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  }
}());
