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
