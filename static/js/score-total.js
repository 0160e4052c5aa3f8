/* The scoring form's weighted total and band, worked out as the scores change.
   The page works without this script: the server shows the total of the scores it rendered and
   computes the stored total on saving. Here the same arithmetic runs in whole cents (score × weight
   summed, then ÷ 100), so the figure shown is the one that will be saved. */
(function () {
  "use strict";
  var form = document.getElementById("score-form");
  if (!form || !form.dataset.scoreTotal) { return; }
  var config = JSON.parse(form.dataset.scoreTotal);
  var total = document.getElementById("live-total");
  var band = document.getElementById("live-band");
  var dimensions = Object.keys(config.weights);
  var bands = config.bands.map(function (b) {
    return { cents: Math.round(parseFloat(b[0]) * 100), code: b[1], label: b[2] };
  });

  function score(name) {
    var field = form.elements[name];
    var text = field ? field.value.trim() : "";
    if (!/^\d{1,3}$/.test(text)) { return null; }
    var value = parseInt(text, 10);
    return value <= 100 ? value : null;
  }

  function update() {
    var cents = 0;
    for (var i = 0; i < dimensions.length; i++) {
      var value = score(dimensions[i]);
      if (value === null) { total.value = "—"; band.value = "—"; band.dataset.band = ""; return; }
      cents += value * config.weights[dimensions[i]];
    }
    var rest = String(cents % 100);
    total.value = Math.floor(cents / 100) + "." + (rest.length < 2 ? "0" + rest : rest);
    var found = bands[bands.length - 1];
    for (var j = 0; j < bands.length; j++) {
      if (cents >= bands[j].cents) { found = bands[j]; break; }
    }
    band.value = found.label;
    band.dataset.band = found.code;
  }

  form.addEventListener("input", update);
  update();
}());
