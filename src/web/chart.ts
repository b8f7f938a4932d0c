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

// NHS identity colours, ordered so neighbouring groups differ clearly: blue, warm yellow, aqua green, dark pink, dark blue, purple.
const NHS_COLOURS = ['#005eb8', '#ffb81c', '#00a499', '#7c2855', '#003087', '#330072'];

/** Arial's advance widths, thousandths of an em, for the characters ' ' (32) to '~' (126). */
const ARIAL_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

interface VegaTextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

/**
 * Without a canvas (none on the server), Vega guesses every character is 0.8em wide, so axis
 * labels like "North & West Herefordshire PCN" get cut short with an ellipsis. Vega lets a
 * renderer supply its own text measure (as vl-convert does); this one uses Arial's widths, the
 * fallback of the NHS font, with a little to spare for Frutiger.
 */
let textMeasureInstalled = false;
async function installTextMeasure(): Promise<void> {
  if (textMeasureInstalled) return;
  const vega = (await import('vega')) as unknown as { textMetrics: { width: (item: VegaTextItem, text?: string | number | null) => number } };
  vega.textMetrics.width = (item, text) => {
    const value = text === null || text === undefined ? '' : String(text).trim();
    const size = item.fontSize === undefined ? 11 : Number(item.fontSize) || 0;
    const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    let units = 0;
    for (const ch of value) {
      const code = ch.codePointAt(0) ?? 0;
      units += code >= 32 && code <= 126 ? (ARIAL_WIDTHS[code - 32] ?? 556) : ch === '\u2026' ? 1000 : 600;
    }
    const width = (units / 1000) * size * (bold ? 1.1 : 1) * 1.05;
    return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
  textMeasureInstalled = true;
}

/** A horizontal bar chart as accessible SVG, bars sorted longest first. */
export async function barChartSvg(data: BarDatum[], options: BarChartOptions): Promise<string> {
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: options.description,
    width: options.width ?? 560,
    height: { step: 22 },
    data: { values: data },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: '-x', title: options.labelTitle, axis: { labelLimit: 260, maxExtent: 270, labelFontSize: 14, titleFontSize: 14 } },
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
  return renderVegaLite(spec, options.description);
}

/**
 * Renders any Vega-Lite specification to SVG on the server, measuring text as the browser will,
 * and names the whole chart for assistive technology (Vega labels each mark and axis itself).
 * Every module draws its charts through here.
 */
export async function renderVegaLite(spec: Record<string, unknown>, description: string): Promise<string> {
  await installTextMeasure();
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile({ description, ...spec } as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg.replace(/^<svg /, `<svg role="graphics-document document" aria-label="${escapeAttribute(description)}" `).replace(/^(<svg[^>]*>)/, `$1<title>${escapeAttribute(description)}</title>`);
}

function escapeAttribute(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * A chart drawn twice, wide for larger screens and narrow for phones, so its text stays readable
 * on both; CSS (.openics-chart__wide / __narrow) shows one. Charts whose bar labels are long pass
 * an empty labelTitle, so an axis title never sits on top of the labels.
 */
export async function responsiveBarChart(data: BarDatum[], options: BarChartOptions & { width: number; narrowWidth: number }): Promise<{ wide: string; narrow: string }> {
  const wide = await barChartSvg(data, { ...options, width: options.width });
  const narrow = await barChartSvg(data, { ...options, width: options.narrowWidth });
  return { wide, narrow };
}
