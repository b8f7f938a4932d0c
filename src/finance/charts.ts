/**
 * The finance pages' charts, drawn on the server as accessible SVG with Vega-Lite, in NHS
 * colours: grouped bars (need index by place and component; target against current budget) and
 * lines (the convergence path; the system's cumulative position by month). Each is drawn wide
 * and narrow, like the shared bar chart, and sits beside a table with the same numbers.
 */
import { renderVegaLite } from '../web/chart.js';

// NHS identity colours, neighbours contrasting: blue, warm yellow, aqua green, dark pink, dark blue, orange, purple, green, grey.
const COLOURS = ['#005eb8', '#ffb81c', '#00a499', '#7c2855', '#003087', '#ed8b00', '#330072', '#007f3b', '#768692'];
const FONT = 'Frutiger W01, Arial, sans-serif';

export interface Responsive {
  wide: string;
  narrow: string;
}

async function render(spec: Record<string, unknown>, description: string): Promise<string> {
  return renderVegaLite(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: { font: FONT, axis: { labelColor: '#212b32', titleColor: '#212b32', labelFontSize: 13, titleFontSize: 14 }, legend: { labelFontSize: 13, titleFontSize: 14, labelLimit: 260 }, view: { stroke: null } },
      ...spec,
    },
    description,
  );
}

export interface GroupedDatum {
  label: string;
  series: string;
  value: number;
}

export interface GroupedOptions {
  description: string;
  valueTitle: string;
  seriesTitle: string;
  /** d3 format of the values, e.g. '.2f' or ',.0f'. */
  format: string;
  /** Draw a reference line at this value (1 for an index). */
  reference?: number;
  series: string[];
  width: number;
  narrowWidth: number;
  /** Height of one bar. */
  step?: number;
}

async function grouped(data: GroupedDatum[], o: GroupedOptions, width: number): Promise<string> {
  const labels = [...new Set(data.map((d) => d.label))];
  const bars = {
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 200, maxExtent: 210, labelFontSize: 14 } },
      yOffset: { field: 'series', type: 'nominal', sort: o.series },
      // Around a reference (an index of 1.00), bars run from it to the value, so above and below read at a glance.
      x: { field: 'value', type: 'quantitative', title: o.valueTitle, axis: { format: o.format, tickCount: width < 300 ? 3 : 8 }, ...(o.reference !== undefined ? { scale: { zero: false, nice: true } } : {}) },
      ...(o.reference !== undefined ? { x2: { datum: o.reference } } : {}),
      color: { field: 'series', type: 'nominal', title: o.seriesTitle, sort: o.series, scale: { domain: o.series, range: COLOURS }, legend: { orient: 'bottom', direction: 'vertical', columns: width < 300 ? 1 : 2 } },
      tooltip: [
        { field: 'label', type: 'nominal', title: 'Place' },
        { field: 'series', type: 'nominal', title: o.seriesTitle },
        { field: 'value', type: 'quantitative', title: o.valueTitle, format: o.format },
      ],
    },
  };
  const layers: unknown[] = [bars];
  if (o.reference !== undefined) layers.push({ mark: { type: 'rule', color: '#212b32', strokeDash: [4, 3], aria: false }, encoding: { x: { datum: o.reference } } });
  return render({ width, height: { step: o.step ?? 7 }, data: { values: data }, layer: layers }, o.description);
}

/** Horizontal bars grouped by label (a place), one bar per series (a component, or current and target). */
export async function groupedBarChart(data: GroupedDatum[], o: GroupedOptions): Promise<Responsive> {
  return { wide: await grouped(data, o, o.width), narrow: await grouped(data, o, o.narrowWidth) };
}

export interface LinePoint {
  x: string;
  series: string;
  value: number;
  /** Dashed (a forecast, say) rather than solid. */
  dashed?: boolean;
}

export interface LineOptions {
  description: string;
  xTitle: string;
  valueTitle: string;
  seriesTitle: string;
  format: string;
  xOrder: string[];
  reference?: number;
  width: number;
  narrowWidth: number;
  height?: number;
}

async function lines(data: LinePoint[], o: LineOptions, width: number): Promise<string> {
  const series = [...new Set(data.map((d) => d.series))];
  const layers: unknown[] = [
    {
      mark: { type: 'line', point: { filled: true, size: 40 }, strokeWidth: 2.5 },
      encoding: {
        x: { field: 'x', type: 'ordinal', sort: o.xOrder, title: o.xTitle, axis: { labelAngle: width < 300 ? -60 : 0, labelFontSize: width < 300 ? 11 : 13 } },
        y: { field: 'value', type: 'quantitative', title: o.valueTitle, axis: { format: o.format } },
        color: { field: 'series', type: 'nominal', title: o.seriesTitle, sort: series, scale: { domain: series, range: COLOURS }, legend: { orient: 'bottom', direction: 'vertical', columns: width < 300 ? 1 : 2 } },
        strokeDash: { field: 'dashed', type: 'nominal', scale: { domain: [false, true], range: [[1, 0], [6, 4]] }, legend: null },
        tooltip: [
          { field: 'series', type: 'nominal', title: o.seriesTitle },
          { field: 'x', type: 'ordinal', title: o.xTitle },
          { field: 'value', type: 'quantitative', title: o.valueTitle, format: o.format },
        ],
      },
    },
  ];
  if (o.reference !== undefined) layers.unshift({ mark: { type: 'rule', color: '#212b32', strokeDash: [4, 3], aria: false }, encoding: { y: { datum: o.reference } } });
  return render({ width, height: o.height ?? 260, data: { values: data.map((d) => ({ ...d, dashed: d.dashed ?? false })) }, layer: layers }, o.description);
}

/** Lines over an ordinal axis (years, months), one per series. */
export async function lineChart(data: LinePoint[], o: LineOptions): Promise<Responsive> {
  return { wide: await lines(data, o, o.width), narrow: await lines(data, o, o.narrowWidth) };
}
