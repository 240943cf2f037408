// The dashboard's charts (ECharts, vendored): drawn from the page's chart-data endpoint, the same numbers as the
// tables beside them. No inline script and no eval, so it runs under the Content-Security-Policy.
(function () {
  "use strict";
  var RED = "#c0392b", BLUE = "#2f6fad", GREY = "#9aa5b1", GREEN = "#2e8b57";
  var RANKING_ROWS = 15;
  var PALETTE = [RED, BLUE, "#e69f00", GREEN, "#8e44ad", "#16a085", "#d35400", "#7f8c8d", "#2c3e50", "#f1c40f"];

  function bar(names, series, horizontal) {
    var category = {type: "category", data: names, axisLabel: {interval: 0, width: 90, overflow: "truncate"}};
    var value = {type: "value", minInterval: 1};
    return {
      color: PALETTE, tooltip: {trigger: "axis", renderMode: "richText"}, legend: {top: 0},
      grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
      xAxis: horizontal ? value : category, yAxis: horizontal ? category : value, series: series
    };
  }

  function isNarrow(node) { return node.clientWidth < 420; }

  // On a phone the outer labels would wrap into each other: the numbers go inside, the names into the legend.
  function pie(items, narrow) {
    var shown = items.filter(function (i) { return i.value > 0; });
    return {
      color: PALETTE, tooltip: {trigger: "item", renderMode: "richText", formatter: "{b}: {c} ({d}%)"},
      legend: narrow ? {bottom: 0, type: "scroll"} : {show: false},
      series: [{type: "pie", radius: narrow ? ["30%", "58%"] : ["35%", "60%"], center: ["50%", narrow ? "45%" : "50%"],
                data: shown,
                label: narrow ? {position: "inside", formatter: "{c}"} : {formatter: "{b}\n{c}", overflow: "break", width: 70}}]
    };
  }

  // The ranking: worst first from the top, the units with a target by their progress; with no target set below,
  // every unit by the year's exits.
  function rankedByProgress(d) { return d.ranking.some(function (r) { return r.progress !== null; }); }
  function rankingRows(d) {
    var byProgress = rankedByProgress(d);
    return d.ranking.filter(function (r) { return !byProgress || r.progress !== null; }).reverse();
  }

  var BUILDERS = {
    progress: function (d) {
      var p = d.progress, labels = d.labels;
      var option = bar([labels.exited, labels.planned, labels.target], [{
        type: "bar", name: String(d.year), barMaxWidth: 48, label: {show: true, position: "top"},
        data: [p.exited, p.planned, p.target],  // no target: no bar (the table says 未设定)
        itemStyle: {color: function (item) { return [RED, BLUE, GREY][item.dataIndex]; }}
      }]);
      option.legend = {show: false};
      option.grid.top = 24;
      return option;
    },
    categories: function (d, node) { return pie(d.categories, isNarrow(node)); },
    causes: function (d) {
      var items = d.causes.filter(function (c) { return c.value > 0; });
      return bar(items.map(function (c) { return c.name; }),
        [{type: "bar", data: items.map(function (c) { return c.value; }), label: {show: true, position: "right"}}], true);
    },
    ranking: function (d) {
      // Past RANKING_ROWS units the chart keeps its height and scrolls (the table below lists them all).
      var byProgress = rankedByProgress(d), rows = rankingRows(d);
      var option = bar(rows.map(function (r) { return r.name; }), [{
        type: "bar", name: byProgress ? d.labels.progress + " %" : d.labels.exited, barMaxWidth: 28,
        data: rows.map(function (r) { return byProgress ? r.progress : r.exited; }),
        label: {show: true, position: "right", formatter: byProgress ? "{c}%" : "{c}"}
      }], true);
      if (rows.length > RANKING_ROWS) {
        var shown = {yAxisIndex: 0, startValue: rows.length - RANKING_ROWS, endValue: rows.length - 1};
        option.dataZoom = [Object.assign({type: "slider", right: 4, width: 14, showDetail: false, brushSelect: false}, shown),
                           Object.assign({type: "inside", zoomOnMouseWheel: false, moveOnMouseWheel: true}, shown)];
        option.grid.right = 32;
      }
      return option;
    },
    trend: function (d) {
      var t = d.trend, labels = d.labels;
      function line(name, data, color) { return {type: "line", name: name, data: data, showSymbol: false, color: color}; }
      var option = bar(t.months, [line(labels.on_register, t.on_register, RED), line(labels.exited, t.exited, GREEN),
                                  line(labels.filed, t.filed, BLUE)]);
      option.xAxis.axisLabel = {};
      option.dataZoom = [{type: "inside"}];
      return option;
    },
    year_line: function (d) {
      var rows = d.year_line, labels = d.labels;
      var option = bar(rows.map(function (r) { return r.month; }), [
        {type: "line", name: labels.exited, data: rows.map(function (r) { return r.exited; }), color: RED},
        {type: "line", name: labels.target, data: rows.map(function (r) { return r.target; }), color: GREY,
         lineStyle: {type: "dashed"}, showSymbol: false}
      ]);
      return option;
    }
  };

  function draw(data) {
    document.querySelectorAll("[data-chart]").forEach(function (node) {
      var build = BUILDERS[node.dataset.chart];
      if (!build) return;
      if (node.dataset.chart === "ranking") {
        node.style.height = Math.max(160, 72 + 32 * Math.min(rankingRows(data).length, RANKING_ROWS)) + "px";
      }
      var chart = echarts.init(node, null, {renderer: "svg"});
      var narrow = isNarrow(node);
      chart.setOption(build(data, node));
      window.addEventListener("resize", function () {
        if (isNarrow(node) !== narrow) {  // a phone turned, a window narrowed: the layout that fits, afresh
          narrow = isNarrow(node);
          chart.setOption(build(data, node), true);
        }
        chart.resize();
      });
    });
    document.documentElement.dataset.chartsReady = "true";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("dashboard");
    if (!root || typeof echarts === "undefined") return;
    fetch(root.dataset.src, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(draw)
      .catch(function () { root.classList.add("charts-failed"); });
  });
})();
