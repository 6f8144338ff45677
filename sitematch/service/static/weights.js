// The match page: when the map's what-if panel moves a weight, offer to save the weights.
(function () {
  var frame = document.getElementById('match-map');
  var form = document.getElementById('save-weights');
  if (!frame || !form) { return; }
  window.addEventListener('message', function (event) {
    if (event.source !== frame.contentWindow) { return; }
    var data = event.data || {};
    if (data.sitematch !== 'weights' || !Array.isArray(data.weights) || !Array.isArray(data.criteria)) { return; }
    var weights = {};
    data.criteria.forEach(function (c, i) { weights[String(c)] = Number(data.weights[i]); });
    document.getElementById('weights-json').value = JSON.stringify(weights);
    var said = document.getElementById('weights-text');
    said.textContent = (said.dataset.label || 'Weights:') + ' ' + data.criteria.map(function (c, i) {
      return String(c) + ' ' + Number(data.weights[i]);
    }).join(', ');
    form.hidden = !data.changed;
  });
})();
