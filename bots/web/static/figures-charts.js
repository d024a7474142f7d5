// Draw the figures page's charts from the JSON the server embedded (no requests of its own).
(function () {
  if (!window.Chart) return;
  var d = JSON.parse(document.getElementById("figures-data").textContent);
  var opts = {animation: false, responsive: true};
  new Chart(document.getElementById("daily"), {type: "bar", options: Object.assign({scales: {x: {stacked: true}, y: {stacked: true}}}, opts),
    data: {labels: d.days, datasets: d.types}});
  new Chart(document.getElementById("sla"), {type: "line", options: Object.assign({scales: {y: {min: 0, max: 100}}}, opts),
    data: {labels: d.days, datasets: [{label: d.labels.percent, data: d.compliance, spanGaps: true}]}});
  new Chart(document.getElementById("stages"), {type: "bar", options: Object.assign({indexAxis: "y"}, opts),
    data: {labels: d.stages.labels, datasets: [{label: d.labels.minutes, data: d.stages.minutes}]}});
  new Chart(document.getElementById("channels"), {type: "bar", options: opts,
    data: {labels: d.channels.labels, datasets: [{label: d.labels.count, data: d.channels.data}]}});
  new Chart(document.getElementById("classes"), {type: "bar", options: opts,
    data: {labels: d.classes.labels, datasets: [{label: d.labels.count, data: d.classes.data}]}});
  new Chart(document.getElementById("ratings"), {type: "bar", options: opts,
    data: {labels: ["1", "2", "3", "4", "5"], datasets: [{label: "★", data: d.ratings}]}});
  new Chart(document.getElementById("agencies"), {type: "bar", options: opts,
    data: {labels: d.agencies.labels, datasets: [{label: d.labels.count, data: d.agencies.data}]}});
})();
