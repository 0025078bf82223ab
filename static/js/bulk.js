// Bulk selection: a header checkbox data-select-all="<form id>" checks every
// row checkbox of that form; data-selected-count="<form id>" shows how many.
(function () {
  function boxes(formId) {
    return document.querySelectorAll('input[type=checkbox][name=ids][form="' + formId + '"]');
  }
  function recount(formId) {
    var count = 0;
    boxes(formId).forEach(function (box) { if (box.checked) { count += 1; } });
    document.querySelectorAll('[data-selected-count="' + formId + '"] span').forEach(function (el) {
      el.textContent = String(count);
    });
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      boxes(target.dataset.selectAll).forEach(function (box) { box.checked = target.checked; });
      recount(target.dataset.selectAll);
    } else if (target.matches("input[type=checkbox][name=ids][form]")) {
      recount(target.getAttribute("form"));
    }
  });
  // A partial swapped in (filter, next page) starts with nothing selected.
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("[data-selected-count]").forEach(function (el) {
      recount(el.dataset.selectedCount);
    });
  });
})();
