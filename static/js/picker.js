/* Searchable pickers: an input with data-picker="<url>" and list="<datalist id>" gets the records that match
   what is typed as suggestions (value: the number the form takes; label: name, team, level). Without this
   script the input still takes a typed number, and the server checks it as before. */
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[data-picker]");
  Array.prototype.forEach.call(inputs, function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) { return; }
    var timer = null;
    var asked = null;
    function fill(records) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      records.forEach(function (record) {
        var option = document.createElement("option");
        option.value = record.employee_no;
        option.label = record.label;
        option.textContent = record.label;
        list.appendChild(option);
      });
    }
    function search() {
      var q = input.value.trim();
      if (q === asked) { return; }
      asked = q;
      var url = input.dataset.picker + "?q=" + encodeURIComponent(q);
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (records) { if (asked === q) { fill(records); } })
        .catch(function () { /* suggestions are a convenience: typing still works */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("focus", search);
  });
}());
