// Money inputs of the worksheet: digit grouping once the user leaves the field.
(function () {
  function group(input) {
    var raw = input.value.replace(/[,\s]/g, "").replace(/[０-９]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace(/．/g, ".");
    if (raw === "" || isNaN(Number(raw))) return;
    var parts = Number(raw).toFixed(2).split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    input.value = parts.join(".");
  }
  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("input.figure.money")) group(event.target);
  });
})();

// Behaviour that would otherwise be inline handlers (the Content-Security-Policy forbids them):
// a select or checkbox marked data-autosubmit submits its form; a form marked data-goto="x"
// opens the URL chosen in its field x.
(function () {
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("[data-autosubmit]") && field.form) field.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var name = form.getAttribute && form.getAttribute("data-goto");
    if (name && form.elements[name]) {
      event.preventDefault();
      window.location.href = form.elements[name].value;
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.matches && event.target.matches("[data-print]")) window.print();
  });
})();
