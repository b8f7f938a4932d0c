/**
 * Results over time (HbA1c, eGFR, blood pressure, BMI) as server-drawn SVG line charts, through
 * the web module's Vega-Lite renderer; the page puts the same numbers in a table beside each.
 */
import { renderVegaLite } from '../../web/chart.js';
import type { ResultSeries } from './joined-record.js';

const NHS_BLUE = '#005eb8';
const NHS_DARK_PINK = '#7c2855';

/** The chart of one series (oldest to newest), or undefined when it has fewer than two points: a single value is no trend. */
export async function trendChartSvg(series: ResultSeries, width = 560): Promise<string | undefined> {
  if (series.points.length < 2) return undefined;
  const bp = series.key === 'bp';
  const values = series.points.flatMap((p) =>
    bp ? [{ date: p.date.slice(0, 10), value: p.value, measure: 'Systolic' }, ...(p.second !== undefined ? [{ date: p.date.slice(0, 10), value: p.second, measure: 'Diastolic' }] : [])] : [{ date: p.date.slice(0, 10), value: p.value, measure: series.name }],
  );
  const first = series.points.at(-1)?.date.slice(0, 10) ?? '';
  const last = series.points[0]?.date.slice(0, 10) ?? '';
  const description = `${series.name} (${series.unit}) from ${first} to ${last}: ${series.points.length} results; the table below lists them.`;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width,
    height: 180,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'date', type: 'temporal', title: 'Date', axis: { format: '%b %Y', labelFontSize: 13, titleFontSize: 14 } },
      y: { field: 'value', type: 'quantitative', title: series.unit, scale: { zero: false }, axis: { labelFontSize: 13, titleFontSize: 14 } },
      color: bp
        ? { field: 'measure', type: 'nominal', title: null, scale: { domain: ['Systolic', 'Diastolic'], range: [NHS_BLUE, NHS_DARK_PINK] }, legend: { orient: 'top', labelFontSize: 14 } }
        : { value: NHS_BLUE },
    },
    config: { font: 'Frutiger W01, Arial, sans-serif', axis: { labelColor: '#212b32', titleColor: '#212b32' }, view: { stroke: null } },
  };
  return renderVegaLite(spec, description);
}
