// The search box in the top bar: "/" focuses it; arrow keys move through the
// results htmx shows under it; Escape closes them. Enter on the box submits
// the search (a whole number opens its record); Enter on a result opens it.
(function () {
  function links(container) {
    return container ? Array.prototype.slice.call(container.querySelectorAll("a")) : [];
  }
  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("topbar-search-q");
    var popup = document.getElementById("topbar-search-popup");
    if (!box) { return; }
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) ||
      document.activeElement.isContentEditable;
    if (event.key === "/" && !typing) {
      event.preventDefault();
      box.focus();
      box.select();
      return;
    }
    var inSearch = document.activeElement === box || (popup && popup.contains(document.activeElement));
    if (!inSearch) { return; }
    var items = links(popup);
    var index = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      items[Math.min(index + 1, items.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      if (index === 0) { box.focus(); } else { items[index - 1].focus(); }
    } else if (event.key === "Escape" && popup) {
      popup.innerHTML = "";
      box.focus();
    }
  });
})();
