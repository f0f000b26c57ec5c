import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatValue } from '../format.js';
import { latest, type Wide } from './series.js';

const PALETTE = ['#3274d9', '#e0752d', '#56a64b', '#c4162a', '#8f3bb8', '#1f9e9e', '#d4a017', '#6e6e6e', '#ff7eb6', '#00695c'];
const HEIGHT = 220;

interface Props {
  title: string;
  unit: string;
  wide: Wide;
  /** The panel's range, epoch ms: the x axis spans it even where there is no data. */
  fromMs: number;
  toMs: number;
  /** Drag-select on the chart: zoom the page to that window. */
  onSelect?: (fromMs: number, toMs: number) => void;
}

export function TimeSeriesChart({ title, unit, wide, fromMs, toMs, onSelect }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const select = useRef(onSelect);
  select.current = onSelect;
  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: HEIGHT,
      // Times in UTC, like the tables and the Grafana dashboards.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: {
        x: { time: true, range: () => [fromMs / 1000, toMs / 1000] },
        // From zero, with headroom; a flat zero series still gets a readable 0–1 axis.
        y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
      },
      series: [
        {},
        ...wide.series.map((s, i) => ({
          label: s.name,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          points: { show: wide.times.length < 3 },
          value: (_u: uPlot, v: number | null) => formatValue(v, unit),
        })),
      ],
      axes: [{}, { size: 72, values: (_u, splits) => splits.map((v) => formatValue(v, unit)) }],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            select.current?.(Math.round(from * 1000), Math.round(to * 1000));
          },
        ],
      },
    };
    const plot = new uPlot(opts, [wide.times, ...wide.series.map((s) => s.values)] as uPlot.AlignedData, el);
    // Observing reports the current size at once: redraw only when the width really changed.
    let width = opts.width;
    const resize = new ResizeObserver(() => {
      const next = Math.max(el.clientWidth, 200);
      if (next === width) return;
      width = next;
      plot.setSize({ width, height: HEIGHT });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [wide, unit, fromMs, toMs]);

  const summary = wide.series
    .slice(0, 24)
    .map((s) => `${s.name} ${formatValue(latest(s), unit)}`)
    .join('; ');
  return <div class="chart" ref={box} role="img" aria-label={`${title}: ${wide.series.length} series${summary ? `, latest ${summary}` : ''}`} />;
}
