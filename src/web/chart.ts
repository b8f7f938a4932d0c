/**
 * Charts for numbers people compare, drawn on the server as SVG with Vega-Lite, so pages work
 * without JavaScript and every chart can sit next to the table that states its numbers.
 * Vega is imported on first use: start-up does not pay for it.
 */
export interface BarDatum {
  label: string;
  value: number;
  /** Optional grouping shown as colour (for example the upper-tier council of a place). */
  group?: string;
}

export interface BarChartOptions {
  /** Said by screen readers; also the chart's visible caption in the page. */
  description: string;
  valueTitle: string;
  labelTitle: string;
  groupTitle?: string;
  width?: number;
}

// NHS identity colours (blue, dark blue, aqua green, purple, warm yellow, dark pink).
const NHS_COLOURS = ['#005eb8', '#003087', '#00a499', '#330072', '#ffb81c', '#7c2855'];

export async function barChartSvg(data: BarDatum[], options: BarChartOptions): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: options.description,
    width: options.width ?? 560,
    height: { step: 22 },
    data: { values: data },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: '-x', title: options.labelTitle, axis: { labelLimit: 260, labelFontSize: 14, titleFontSize: 14 } },
      x: { field: 'value', type: 'quantitative', title: options.valueTitle, axis: { format: ',.0f', labelFontSize: 13, titleFontSize: 14 } },
      ...(options.groupTitle
        ? { color: { field: 'group', type: 'nominal', title: options.groupTitle, scale: { range: NHS_COLOURS }, legend: { orient: 'bottom', direction: 'vertical', labelFontSize: 14, titleFontSize: 14, labelLimit: 300 } } }
        : { color: { value: NHS_COLOURS[0] } }),
      tooltip: [
        { field: 'label', type: 'nominal', title: options.labelTitle },
        { field: 'value', type: 'quantitative', title: options.valueTitle, format: ',.0f' },
      ],
    },
    config: { font: 'Frutiger W01, Arial, sans-serif', axis: { labelColor: '#212b32', titleColor: '#212b32' }, view: { stroke: null } },
  };
  const compiled = vegaLite.compile(spec as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  // Name the whole chart for assistive technology; Vega labels each bar and axis itself.
  return svg.replace(/^<svg /, `<svg role="graphics-document document" aria-label="${escapeAttribute(options.description)}" `).replace(/^(<svg[^>]*>)/, `$1<title>${escapeAttribute(options.description)}</title>`);
}

function escapeAttribute(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
