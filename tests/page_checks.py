"""Checks run inside a browser page (shared by the browser tests)."""

# Duplicate ids (WCAG 2.1 4.1.1) and references that lead nowhere: newer axe
# versions no longer report these, but a label or a hint bound to the wrong
# element is read out wrongly by a screen reader.
ID_CHECK = r"""
() => {
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const duplicated = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  const missing = [];
  for (const el of document.querySelectorAll('[aria-labelledby],[aria-describedby]')) {
    for (const attr of ['aria-labelledby', 'aria-describedby']) {
      for (const ref of (el.getAttribute(attr) || '').split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(ref)) missing.push(`${attr}=${ref}`);
      }
    }
  }
  for (const label of document.querySelectorAll('label[for]')) {
    if (!document.getElementById(label.htmlFor)) missing.push(`for=${label.htmlFor}`);
  }
  for (const link of document.querySelectorAll('a[href^="#"]')) {
    const target = decodeURIComponent(link.getAttribute('href').slice(1));
    if (target && !document.getElementById(target)) missing.push(`href=#${target}`);
  }
  const manyLabels = [...document.querySelectorAll('input, select, textarea')]
    .filter(e => e.labels && e.labels.length > 1).map(e => e.name);
  return {duplicated, missing, manyLabels};
}
"""
