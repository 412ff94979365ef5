"""The run page's script: the charts, drawn in the browser from the run's summaries (the JSON
embedded in the page), sortable tables, and a trade's link to its symbol's chart. A chart is
drawn only when its section is on the page (a run without a benchmark or without trades leaves
those out); every chart drawn counts in ``data-charts``."""

RUN_SCRIPT = r"""
(function () {
  const data = JSON.parse(document.getElementById('run-data').textContent);
  const body = document.body;
  let drawn = 0;
  const done = () => { drawn += 1; body.dataset.charts = drawn; };
  const cfg = {responsive: true, displaylogo: false};
  const here = (id) => document.getElementById(id) !== null;
  const [open, close] = data.hours;  // the sessions' hours, exchange wall clock
  const breaks = [{bounds: ['sat', 'mon']}, {values: data.closed, dvalue: (close - open) * 3600 * 1000}];
  if (close - open < 24) breaks.push({bounds: [close, open], pattern: 'hour'});
  const axis = {type: 'date', rangebreaks: breaks};
  const layout = (extra) => Object.assign(
    {margin: {l: 60, r: 20, t: 30, b: 40}, hovermode: 'x unified', xaxis: axis}, extra);
  const draw = (id, traces, extra) => Plotly.react(id, traces, layout(extra), cfg);
  const plain = (extra) => Object.assign({margin: {l: 60, r: 20, t: 30, b: 40}}, extra);

  // equity, against the benchmark when there is one (its growth of the same starting equity)
  const e = data.equity;
  const equity = [{x: e.t, y: e.equity, type: 'scatter', mode: 'lines', name: 'equity'}];
  const d = data.daily;
  if (d && d.benchmark) {
    equity.push({x: d.times, y: d.benchmark,
                 type: 'scatter', mode: 'lines+markers', name: d.benchmark_name,
                 line: {dash: 'dot', color: '#7f8c8d'}});
  }
  draw('equity', equity, {title: {text: 'Equity'}, yaxis: {tickformat: ',.0f'}}).then(done);
  draw('drawdown', [{x: e.t, y: e.drawdown, type: 'scatter', mode: 'lines', fill: 'tozeroy',
                     name: 'drawdown', line: {color: '#c0392b'}}],
       {title: {text: 'Drawdown'}, yaxis: {tickformat: data.drawdown_format,
        range: [data.drawdown_floor, 0]}}).then(done);

  if (d && here('monthly')) {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const text = d.monthly.z.map((row) => row.map((v) => v === null ? '' : (v * 100).toFixed(2) + '%'));
    const top = Math.max(1e-9, ...d.monthly.z.flat().filter((v) => v !== null).map(Math.abs));
    Plotly.react('monthly', [{z: d.monthly.z, x: months, y: d.monthly.years, type: 'heatmap',
      text: text, texttemplate: '%{text}', zmin: -top, zmax: top,
      colorscale: [[0, '#c0392b'], [0.5, '#f7f7f7'], [1, '#1e8449']],
      hovertemplate: '%{y} %{x}: %{text}<extra></extra>', showscale: false}],
      plain({title: {text: 'Monthly returns'}, yaxis: {type: 'category', autorange: 'reversed'}}),
      cfg).then(done);
    Plotly.react('yearly', [{x: d.yearly.years, y: d.yearly.r, type: 'bar',
      marker: {color: d.yearly.r.map((v) => v < 0 ? '#c0392b' : '#1e8449')}}],
      plain({title: {text: 'Yearly returns'}, yaxis: {tickformat: '.2%'},
             xaxis: {type: 'category'}}), cfg).then(done);
  }
  if (d && d.rolling && here('rolling')) {
    const w = d.rolling.window;
    Plotly.react('rolling', [
      {x: d.dates, y: d.rolling.sharpe, type: 'scatter', mode: 'lines', name: 'Sharpe (' + w + ' sessions)'},
      {x: d.dates, y: d.rolling.volatility, type: 'scatter', mode: 'lines', yaxis: 'y2',
       name: 'volatility (' + w + ' sessions)'}],
      plain({title: {text: 'Rolling Sharpe and volatility, ' + w + ' sessions'},
             margin: {l: 60, r: 70, t: 30, b: 40}, legend: {orientation: 'h'},
             yaxis2: {overlaying: 'y', side: 'right', tickformat: '.1%'}}), cfg).then(done);
  }
  if (d && here('histogram')) {
    const h = d.histogram;
    const mids = h.counts.map((_, i) => (h.edges[i] + h.edges[i + 1]) / 2);
    Plotly.react('histogram', [{x: mids, y: h.counts, type: 'bar', name: 'sessions',
      marker: {color: mids.map((v) => v < 0 ? '#c0392b' : '#1e8449')}}],
      plain({title: {text: 'Daily returns'}, bargap: 0.05, xaxis: {tickformat: '.2%'}}),
      cfg).then(done);
  }
  const p = data.by_symbol;
  if (p && here('pnl')) {
    document.getElementById('pnl').style.height = Math.max(220, 18 * p.symbols.length + 90) + 'px';
    Plotly.react('pnl', [{x: p.pnl, y: p.symbols, type: 'bar', orientation: 'h',
      marker: {color: p.pnl.map((v) => v < 0 ? '#c0392b' : '#1e8449')}}],
      plain({title: {text: 'P&L by symbol (net of fees)'}, yaxis: {type: 'category'}}),
      cfg).then(done);
  }
  if (p && here('exposure')) {
    draw('exposure', [
      {x: e.t, y: e.exposure, type: 'scatter', mode: 'lines', name: 'market value / equity'},
      {x: p.times, y: p.open, type: 'scatter', mode: 'markers', yaxis: 'y2',
       name: 'open positions at the close'}],
      {title: {text: 'Exposure and positions'}, yaxis: {tickformat: '.0%'}, legend: {orientation: 'h'},
       yaxis2: {overlaying: 'y', side: 'right', rangemode: 'tozero', dtick: 1}}).then(done);
  }

  // one symbol at a time: its bars, the orders placed, the fills over them, its signals
  const select = document.getElementById('symbol');
  for (const s of data.symbols) {
    const o = document.createElement('option'); o.value = s; o.textContent = s; select.appendChild(o);
  }
  const marks = (rows, name, symbol, color, key) => rows ? [{
    x: rows.time || rows.placed, y: rows[key], type: 'scatter', mode: 'markers', name: name,
    marker: {symbol: symbol, size: 10, color: color},
    text: rows.side.map((side, i) => side + (rows.reason ? ' ' + (rows.reason[i] || '') : '')
                                      + (rows.quantity ? ' ' + rows.quantity[i] : '')),
  }] : [];
  const near = (series, times) => {  // a signal's y: the close of the bar at or before it
    const t = series.bars ? series.bars.timestamp : [];
    const c = series.bars ? series.bars.close : [];
    return times.map((x) => { let k = 0; while (k + 1 < t.length && t[k + 1] <= x) k += 1;
                               return c.length ? c[k] : null; });
  };
  const note = (rows) => rows.total > rows.side.length  // thinned: say how many there were
    ? ' (' + rows.side.length + ' of ' + rows.total + ')' : '';
  let first = true;
  const showSymbol = (range) => {
    const s = data.series[select.value] || {};
    const traces = [];
    if (s.bars) traces.push({x: s.bars.timestamp, open: s.bars.open, high: s.bars.high,
      low: s.bars.low, close: s.bars.close, type: 'candlestick', name: s.bars.interval});
    if (s.signals) traces.push(...marks(Object.assign({y: near(s, s.signals.time)}, s.signals),
                                        'signals' + note(s.signals), 'star', '#8e44ad', 'y'));
    if (s.orders) traces.push(...marks(Object.assign({y: near(s, s.orders.placed)}, s.orders),
                                       'orders placed' + note(s.orders), 'x-thin-open', '#566573', 'y'));
    if (s.fills) {  // drawn last: on top of the orders they fill
      const buys = {time: [], price: [], side: [], quantity: []};
      const sells = {time: [], price: [], side: [], quantity: []};
      s.fills.side.forEach((side, i) => { const to = side === 'buy' ? buys : sells;
        for (const k of Object.keys(to)) to[k].push(s.fills[k][i]); });
      const shown = note(s.fills);
      traces.push(...marks(buys.time.length ? buys : null, 'buy fills' + shown, 'triangle-up',
                           '#1e8449', 'price'));
      traces.push(...marks(sells.time.length ? sells : null, 'sell fills' + shown, 'triangle-down',
                           '#c0392b', 'price'));
    }
    const x = Object.assign({rangeslider: {visible: false}}, axis);
    if (range) x.range = range;
    const drawing = draw('price', traces, {title: {text: select.value || 'no symbol'}, xaxis: x});
    if (first) { first = false; drawing.then(done); }
  };
  select.addEventListener('change', () => showSymbol());
  showSymbol();

  // a trade's symbol shows its chart, around the trade
  const trades = document.getElementById('trades');
  if (trades) {
    trades.querySelectorAll('tbody tr').forEach((row, i) => {
      const cell = row.cells[0];
      cell.classList.add('link');
      cell.addEventListener('click', () => {
        const [entry, exit] = data.trade_times[i] || [];
        select.value = cell.textContent;
        const pad = Math.max(30 * 60 * 1000, (exit - entry) * 0.2);
        showSymbol(entry ? [entry - pad, exit + pad] : undefined);
        document.getElementById('price').scrollIntoView({behavior: 'smooth'});
      });
      row.dataset.index = i;
    });
  }
  // tables: a click on a header sorts by that column (numbers as numbers)
  document.querySelectorAll('table.sortable').forEach((table) => {
    table.querySelectorAll('th').forEach((th, column) => {
      th.addEventListener('click', () => {
        const rows = Array.from(table.tBodies[0].rows);
        const up = th.dataset.order !== 'up';
        const value = (r) => { const t = r.cells[column].textContent; const n = parseFloat(t.replace(/[,%]/g, ''));
                               return isNaN(n) || /\d-\d/.test(t) ? t : n; };
        rows.sort((a, b) => { const x = value(a), y = value(b);
                              return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1); });
        rows.forEach((r) => table.tBodies[0].appendChild(r));
        th.dataset.order = up ? 'up' : 'down';
      });
    });
  });

  const q = data.quality;
  Plotly.react('quality', [{z: q.z, x: q.sessions, y: q.symbols, type: 'heatmap',
    colorscale: [[0, '#c0392b'], [0.9, '#f4d03f'], [1, '#1e8449']], zmin: 0, zmax: 100,
    colorbar: {title: {text: '%'}}, hovertemplate: '%{y} %{x}: %{z}%<extra></extra>'}],
    {margin: {l: 70, r: 20, t: 30, b: 60}, title: {text: 'Quality of ' + (q.interval || '-') + ' bars'},
     xaxis: {type: 'category'}, yaxis: {type: 'category'}}, cfg).then(done);

  const ss = data.sessions;
  Plotly.react('timings', [{x: ss.map((r) => r.date), y: ss.map((r) => r.wall_seconds),
    type: 'bar', name: 'wall seconds'}],
    {margin: {l: 60, r: 20, t: 30, b: 40}, title: {text: 'Wall time per session (s)'},
     xaxis: {type: 'category'}}, cfg).then(done);
})();
"""
