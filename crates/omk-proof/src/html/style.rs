//! The report's one stylesheet: light and dark colors from the reader's preference, and a
//! print layout. System fonts only, so the page loads nothing.

/// The CSS of the page, inlined in its `<style>` element.
pub(crate) const CSS: &str = r#"
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #ffffff; --fg: #1b1f24; --dim: #5b6470; --line: #d8dde3;
  --good: #1a7f37; --good-bg: #dafbe1; --bad: #c62828; --bad-bg: #ffe4e4;
  --wait: #9a6700; --wait-bg: #fff3c4; --info: #0b63c5; --info-bg: #ddeeff;
  --neutral-bg: #eef0f3; --code-bg: #f0f2f5; --add: #e6f7ea; --del: #fde8e8;
  --bar: #8c96a3; --tick: #6e40c9;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1216; --card: #171b21; --fg: #e4e8ed; --dim: #98a2ae; --line: #2c333c;
    --good: #4cc76a; --good-bg: #173b22; --bad: #ff6b6b; --bad-bg: #4a1c1c;
    --wait: #e3b341; --wait-bg: #3d3112; --info: #58a6ff; --info-bg: #152a44;
    --neutral-bg: #222831; --code-bg: #1e242c; --add: #16331f; --del: #3d1a1d;
    --bar: #6b7683; --tick: #b392f0;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 40px; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 13px; }
code { background: var(--code-bg); padding: 1px 5px; border-radius: 4px; overflow-wrap: anywhere; }
pre { background: var(--code-bg); padding: 10px 12px; border-radius: 6px; overflow-x: auto; margin: 8px 0; white-space: pre; }
h1 { font-size: 18px; margin: 0 0 12px; font-weight: 600; }
h1 .dim { font-weight: 400; }
h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 12px 0 6px; }
section, header.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin: 0 0 16px; }
.dim { color: var(--dim); }
.small { font-size: 13px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; background: var(--neutral-bg); color: var(--dim); }
.badge.good { background: var(--good-bg); color: var(--good); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
.badge.wait { background: var(--wait-bg); color: var(--wait); }
.badge.info { background: var(--info-bg); color: var(--info); }
.verdict { display: grid; grid-template-columns: minmax(0, 3fr) minmax(260px, 2fr); gap: 20px; }
.status { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
.status .word { font-size: 26px; font-weight: 700; line-height: 1.2; }
.status.good .word { color: var(--good); } .status.bad .word { color: var(--bad); } .status.wait .word { color: var(--wait); }
.dot { width: 16px; height: 16px; border-radius: 50%; display: inline-block; }
.status.good .dot { background: var(--good); } .status.bad .dot { background: var(--bad); } .status.wait .dot { background: var(--wait); }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 14px; margin: 8px 0 0; }
dl.facts dt { color: var(--dim); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.next code { font-size: 14px; padding: 3px 8px; }
ol.ladder { list-style: none; margin: 0; padding: 0; font-size: 13px; }
ol.ladder li { display: grid; grid-template-columns: 18px minmax(0, 1fr); gap: 6px; padding: 0 6px; border-radius: 5px; line-height: 1.5; }
ol.ladder code { padding: 0 4px; font-size: 12px; }
header.card { padding: 12px 18px; }
header.card h1 { margin: 0 0 4px; }
.prompt { margin: 0; }
ol.ladder li .mark { font-weight: 700; text-align: center; }
ol.ladder li.holds .mark { color: var(--good); }
ol.ladder li.fails { background: var(--bad-bg); }
ol.ladder li.fails .mark { color: var(--bad); }
ol.ladder li.lowest { outline: 2px solid var(--bad); font-weight: 600; }
ol.ladder li.waits { background: var(--wait-bg); }
ol.ladder li.waits .mark { color: var(--wait); }
ol.ladder li.waits.lowest { outline-color: var(--wait); }
ol.ladder li.above { color: var(--dim); }
.timeline svg { width: 100%; height: auto; display: block; }
.timeline .legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; color: var(--dim); margin-top: 6px; }
.timeline .legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; background: var(--sw); }
svg text { fill: var(--fg); font-size: 12px; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
svg text.dim { fill: var(--dim); font-size: 11px; }
svg text.barlabel { fill: #fff; font-size: 11px; pointer-events: none; }
@media (prefers-color-scheme: dark) { svg text.barlabel { fill: #0f1216; } }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .lane { fill: var(--neutral-bg); opacity: 0.55; }
svg .round { fill: var(--info-bg); opacity: 0.6; }
svg .good { fill: var(--good); } svg .bad { fill: var(--bad); } svg .wait { fill: var(--wait); }
svg .info { fill: var(--info); } svg .neutral { fill: var(--bar); }
svg .tick { stroke: var(--tick); stroke-width: 1.5; }
svg .tick.bad { stroke: var(--bad); }
svg .tokens { fill: none; stroke: var(--info); stroke-width: 1.5; }
svg .marker { stroke: var(--card); stroke-width: 1; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--dim); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: 0.03em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
details { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; background: var(--card); }
details > summary { cursor: pointer; padding: 8px 12px; list-style-position: inside; }
details > .body { padding: 0 12px 10px; }
details[open] > summary { border-bottom: 1px solid var(--line); }
.diff .add { background: var(--add); display: block; }
.diff .del { background: var(--del); display: block; }
.diff .hunk { color: var(--info); display: block; }
.cut { color: var(--dim); font-style: italic; }
ul.plain { margin: 4px 0; padding-left: 20px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 10px 24px; }
footer { color: var(--dim); font-size: 12px; text-align: center; margin-top: 8px; }
@media (max-width: 760px) { .verdict { grid-template-columns: 1fr; } main { padding: 12px; } }
@media print {
  :root {
    --bg: #ffffff; --card: #ffffff; --fg: #1b1f24; --dim: #5b6470; --line: #c8cdd3;
    --neutral-bg: #eef0f3; --code-bg: #f0f2f5; --add: #e6f7ea; --del: #fde8e8;
  }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  section, header.card { break-inside: avoid-page; border-color: #bbb; }
  details { break-inside: avoid; }
  details > summary { list-style: none; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
}
"#;
