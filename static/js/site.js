// Every page: the header menu, table cards' labels, styled file pickers.
// Everything here is an enhancement; the pages work without it.
(function () {
  "use strict";

  // The menu is a <details>: on wide screens CSS shows its links inline
  // (::details-content). Browsers without that selector get it opened here.
  var menu = document.querySelector("[data-site-menu]");
  if (menu) {
    var wide = window.matchMedia("(min-width: 1024px)");
    var styled = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
    var sync = function () { if (!styled) { menu.open = wide.matches; } };
    sync();
    wide.addEventListener("change", function () { sync(); if (styled && wide.matches) { menu.open = false; } });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open && !wide.matches) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !wide.matches && !menu.contains(event.target)) { menu.open = false; }
    });
  }

  // On a phone, tables become cards; each cell shows its column's name.
  document.querySelectorAll("main table").forEach(function (table) {
    var headers = Array.prototype.map.call(
      table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        if (!cell.hasAttribute("data-label") && headers[column]) {
          cell.setAttribute("data-label", headers[column]);
        }
        column += cell.colSpan || 1;
      });
    });
  });

  // A styled file picker shows what was chosen instead of the browser's text.
  document.querySelectorAll(".file-picker input[type=file]").forEach(function (input) {
    var names = input.closest(".file-picker").querySelector(".file-picker-names");
    if (!names) { return; }
    var empty = names.textContent;
    input.addEventListener("change", function () {
      var files = Array.prototype.map.call(input.files, function (file) { return file.name; });
      names.textContent = files.length === 0 ? empty :
        files.length === 1 ? files[0] : (names.dataset.many || "{count}").replace("{count}", files.length);
      input.closest(".file-picker").classList.toggle("chosen", files.length > 0);
    });
  });
})();
