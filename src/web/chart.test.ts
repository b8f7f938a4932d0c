import { describe, expect, it } from 'vitest';
import { barChartSvg } from './chart.js';

describe('bar charts', () => {
  it('draws one bar per datum with its label, as accessible SVG', async () => {
    const svg = await barChartSvg(
      [
        { label: 'Herefordshire', value: 192218, group: 'Herefordshire Council' },
        { label: 'Worcester', value: 126258, group: 'Worcestershire County Council' },
      ],
      { description: 'Registered patients by place', valueTitle: 'Registered patients', labelTitle: 'Place', groupTitle: 'Council' },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Herefordshire');
    expect(svg).toContain('Worcester');
    expect(svg).toContain('Registered patients by place');
    expect(svg.match(/aria-roledescription="bar"/g)?.length).toBe(2);
    expect(svg).toContain('aria-label="Registered patients: 192,218; Place: Herefordshire');
  });
});
