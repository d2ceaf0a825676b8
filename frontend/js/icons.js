// Stroke icons drawn with SVG elements built one by one (no markup strings).

const SVG = 'http://www.w3.org/2000/svg';

const SHAPES = {
  hash: [['path', 'M4 9h16M4 15h16M10 3 8 21M16 3l-2 18']],
  lock: [['rect', { x: 4, y: 11, width: 16, height: 10, rx: 2 }], ['path', 'M8 11V7a4 4 0 0 1 8 0v4']],
  plus: [['path', 'M12 5v14M5 12h14']],
  send: [['path', 'M5 12h13M12 5l7 7-7 7']],
  menu: [['path', 'M4 6h16M4 12h16M4 18h16']],
  users: [
    ['path', 'M16 20v-1.5a3.5 3.5 0 0 0-3.5-3.5h-5A3.5 3.5 0 0 0 4 18.5V20'],
    ['circle', { cx: 10, cy: 8, r: 3.5 }],
    ['path', 'M20 20v-1.5a3.5 3.5 0 0 0-2.5-3.35M15.5 4.65a3.5 3.5 0 0 1 0 6.7'],
  ],
  logout: [['path', 'M9 20H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h3M16 16l4-4-4-4M20 12H10']],
  edit: [['path', 'M12 20h8M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4Z']],
  trash: [['path', 'M4 7h16M9 7V4h6v3M18 7l-1 13H7L6 7M10 11v6M14 11v6']],
  close: [['path', 'M18 6 6 18M6 6l12 12']],
  search: [['circle', { cx: 11, cy: 11, r: 6.5 }], ['path', 'm20 20-4.2-4.2']],
  down: [['path', 'M12 5v14M19 12l-7 7-7-7']],
  more: [['circle', { cx: 5, cy: 12, r: 1.2 }], ['circle', { cx: 12, cy: 12, r: 1.2 }], ['circle', { cx: 19, cy: 12, r: 1.2 }]],
  retry: [['path', 'M20 11a8 8 0 1 0-2.3 5.7M20 5v6h-6']],
  userPlus: [
    ['path', 'M15 20v-1.5a3.5 3.5 0 0 0-3.5-3.5h-5A3.5 3.5 0 0 0 3 18.5V20'],
    ['circle', { cx: 9, cy: 8, r: 3.5 }],
    ['path', 'M19 8v6M22 11h-6'],
  ],
  door: [['path', 'M14 4h4a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-4M10 16l-4-4 4-4M6 12h10']],
  settings: [
    ['circle', { cx: 12, cy: 12, r: 3 }],
    ['path', 'M19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 1 1-4 0v-.09A1.65 1.65 0 0 0 9 19.4a1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06A1.65 1.65 0 0 0 4.68 15a1.65 1.65 0 0 0-1.51-1H3a2 2 0 1 1 0-4h.09A1.65 1.65 0 0 0 4.6 9a1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 2.83-2.83l.06.06A1.65 1.65 0 0 0 9 4.68a1.65 1.65 0 0 0 1-1.51V3a2 2 0 1 1 4 0v.09a1.65 1.65 0 0 0 1 1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06A1.65 1.65 0 0 0 19.4 9a1.65 1.65 0 0 0 1.51 1H21a2 2 0 1 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1Z'],
  ],
  user: [['circle', { cx: 12, cy: 8, r: 4 }], ['path', 'M4 21v-1a6 6 0 0 1 6-6h4a6 6 0 0 1 6 6v1']],
  chat: [['path', 'M20 15a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2h12a2 2 0 0 1 2 2Z']],
  at: [['circle', { cx: 12, cy: 12, r: 4 }], ['path', 'M16 8v5a3 3 0 0 0 6 0v-1a10 10 0 1 0-3.92 7.94']],
  bell: [['path', 'M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9M13.73 21a2 2 0 0 1-3.46 0']],
  monitor: [['rect', { x: 2, y: 3, width: 20, height: 14, rx: 2 }], ['path', 'M8 21h8M12 17v4']],
  phone: [['rect', { x: 6, y: 2, width: 12, height: 20, rx: 2 }], ['path', 'M11 18h2']],
  compass: [['circle', { cx: 12, cy: 12, r: 9 }], ['path', 'm15.5 8.5-2 5-5 2 2-5Z']],
  reply: [['path', 'M9 16 4 11l5-5'], ['path', 'M20 19v-3a5 5 0 0 0-5-5H4']],
  smile: [['circle', { cx: 12, cy: 12, r: 9 }], ['path', 'M8.5 14.5s1.3 1.8 3.5 1.8 3.5-1.8 3.5-1.8M9 9.5h.01M15 9.5h.01']],
  megaphone: [['path', 'M3 10.5v3a1 1 0 0 0 1 1h2.5L12 19V5L6.5 9.5H4a1 1 0 0 0-1 1Z'], ['path', 'M15.5 9a4 4 0 0 1 0 6M18.5 6a8 8 0 0 1 0 12']],
  mail: [['rect', { x: 3, y: 5, width: 18, height: 14, rx: 2 }], ['path', 'm3.5 7 8.5 6 8.5-6']],
  key: [['circle', { cx: 7.5, cy: 15.5, r: 4.5 }], ['path', 'M10.7 12.3 21 2M15.5 7.5l3 3M18 5l3 3']],
  alert: [['path', 'M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0ZM12 9v4M12 17h.01']],
  copy: [['rect', { x: 9, y: 9, width: 11, height: 11, rx: 2 }], ['path', 'M5 15H4.5A1.5 1.5 0 0 1 3 13.5v-9A1.5 1.5 0 0 1 4.5 3h9A1.5 1.5 0 0 1 15 4.5V5']],
};

export function icon(name, { size = 18, label } = {}) {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [key, value] of Object.entries({
    viewBox: '0 0 24 24',
    width: size,
    height: size,
    fill: 'none',
    stroke: 'currentColor',
    'stroke-width': 2,
    'stroke-linecap': 'round',
    'stroke-linejoin': 'round',
    class: `icon icon-${name}`,
  })) {
    svg.setAttribute(key, String(value));
  }
  if (label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  } else {
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
  }
  for (const [tag, attrs] of SHAPES[name] ?? []) {
    const shape = document.createElementNS(SVG, tag);
    const values = typeof attrs === 'string' ? { d: attrs } : attrs;
    for (const [key, value] of Object.entries(values)) shape.setAttribute(key, String(value));
    svg.append(shape);
  }
  return svg;
}
