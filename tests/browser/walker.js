// The page walker's layout checks (tests/browser/walker.py): returns readable problems.
// minImage: the smallest width and height a content image may have.
(minImage) => {
  const problems = [];
  const root = document.documentElement;
  const width = window.innerWidth;
  if (root.scrollWidth > width) {
    // Name the widest culprits so the failure says where to look.
    const wide = [...document.querySelectorAll('body *')]
      .filter(el => el.getBoundingClientRect().right > width + 1)
      .filter(el => !el.parentElement || el.parentElement.getBoundingClientRect().right <= width + 1)
      .slice(0, 3)
      .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                 (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''));
    problems.push(`scrolls sideways: ${root.scrollWidth} px wide in ${width} px (${wide.join(', ')})`);
  }
  const rendered = el => el.getClientRects().length > 0;
  const hidden = el => {  // visually hidden on purpose (screen-reader text)
    const style = getComputedStyle(el);
    return style.clipPath !== 'none' && style.clipPath !== '' || style.clip.startsWith('rect(0');
  };
  const scrollBox = table => {
    for (let box = table; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== 'visible') return box;
    }
    return null;
  };
  document.querySelectorAll('table').forEach((table, index) => {
    if (!rendered(table)) return;
    const label = `table ${index + 1}` + (table.id ? ` #${table.id}` : '');
    const box = scrollBox(table);
    const boxStyle = box ? getComputedStyle(box) : null;
    const scrolls = box && ['auto', 'scroll'].includes(boxStyle.overflowX);
    const rect = box ? box.getBoundingClientRect() : {left: 0, right: width};
    const visibleLeft = Math.max(rect.left, 0), visibleRight = Math.min(rect.right, width);
    for (const row of table.querySelectorAll('tr')) {
      if (!rendered(row) || hidden(row)) continue;
      for (const cell of row.children) {
        const text = cell.textContent.trim() || cell.querySelector('img, input, button, a, svg');
        if (!text) continue;
        if (!rendered(cell)) {
          problems.push(`${label}: the column of “${cell.textContent.trim().slice(0, 30)}” is not shown`);
          continue;
        }
        if (hidden(cell) || cell.closest('thead') && hidden(cell.closest('thead'))) continue;
        for (const el of [cell, ...cell.querySelectorAll('*')]) {
          if (!rendered(el) || hidden(el)) continue;
          const r = el.getBoundingClientRect();
          if (r.width < 1) continue;
          if (r.left >= visibleLeft - 1 && r.right <= visibleRight + 1) continue;
          if (scrolls) {
            const start = r.left - rect.left + box.scrollLeft;
            if (start >= -1 && start + r.width <= box.scrollWidth + 1 && visibleRight - visibleLeft > 40) continue;
          }
          problems.push(`${label}: “${el.textContent.trim().slice(0, 30)}” (${el.tagName.toLowerCase()}) is cut off`);
          break;
        }
      }
    }
  });
  for (const img of document.querySelectorAll('main img')) {
    if (!rendered(img) || hidden(img) || getComputedStyle(img).visibility === 'hidden') continue;
    const r = img.getBoundingClientRect();
    if (r.width < minImage || r.height < minImage) {
      problems.push(`image ${img.getAttribute('src')} is ${Math.round(r.width)}×${Math.round(r.height)} px`);
    }
    if (img.complete && img.getAttribute('src') && img.naturalWidth === 0) {
      problems.push(`image ${img.getAttribute('src')} does not load`);
    }
  }
  return problems;
}
