// Bar charts drawn as inline SVG in the page: no chart library, nothing from another host, and the page's
// CSP holds (colours come from admin.css classes, not inline styles).
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 320;
const HEIGHT = 160;
const AXIS = 24;

function node(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * Draws `bars` ([{ label, value }]) into `container`. The SVG is one image to assistive technology, named by the
 * figure caption and described by a sentence listing every value, so nothing is shown that is not also said.
 */
export function drawBarChart(container, bars, { titleId, tone = 'accent' } = {}) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const slot = (WIDTH - 8) / Math.max(1, bars.length);
  const description =
    bars.length === 0 ? 'No data.' : bars.map((bar) => `${bar.label}: ${bar.value}`).join(', ');
  const descId = `${container.id}-desc`;
  const svg = node('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-labelledby': titleId,
    'aria-describedby': descId,
    class: `bar-chart tone-${tone}`,
  });
  svg.append(node('desc', { id: descId }, description));
  svg.append(node('line', { x1: 4, x2: WIDTH - 4, y1: HEIGHT - AXIS, y2: HEIGHT - AXIS, class: 'axis' }));
  bars.forEach((bar, index) => {
    const height = Math.round(((HEIGHT - AXIS - 16) * bar.value) / max);
    const x = 4 + index * slot + slot * 0.15;
    const width = Math.max(1, slot * 0.7);
    svg.append(
      node('rect', { x, y: HEIGHT - AXIS - height, width, height, class: 'bar', 'data-value': bar.value }),
    );
    if (bar.value > 0) {
      svg.append(
        node('text', { x: x + width / 2, y: HEIGHT - AXIS - height - 3, class: 'value' }, String(bar.value)),
      );
    }
    // Every label when they fit, else every few counted from the newest, so labels never overlap and the
    // last bar (today) always has one.
    const every = Math.ceil(bars.length / 7);
    if ((bars.length - 1 - index) % every === 0) {
      svg.append(node('text', { x: x + width / 2, y: HEIGHT - 8, class: 'label' }, bar.label));
    }
  });
  container.replaceChildren(svg);
}
