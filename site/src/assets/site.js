// Sockets, by hand: the little the pages need in the browser. Plain script, no modules, so that
// it also runs when the pages are opened straight from disk (file://).
(() => {
  // Copy buttons on every code block.
  for (const button of document.querySelectorAll('figure.code .copy')) {
    button.addEventListener('click', async () => {
      const code = button.parentElement.querySelector('pre code')?.textContent ?? '';
      try {
        await navigator.clipboard.writeText(code.replace(/\n$/, ''));
        button.textContent = 'Copied';
      } catch {
        button.textContent = 'Select and copy';
      }
      setTimeout(() => {
        button.textContent = 'Copy';
      }, 1500);
    });
  }

  // ← and → go to the previous and next lesson, unless the reader is typing.
  document.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.target instanceof HTMLElement && event.target.closest('input, textarea, select')) return;
    const link =
      event.key === 'ArrowLeft'
        ? document.querySelector('.pager a.previous')
        : event.key === 'ArrowRight'
          ? document.querySelector('.pager a.next')
          : null;
    if (link) link.click();
  });

  // The lessons menu on narrow screens.
  const menu = document.querySelector('.top .menu');
  menu?.addEventListener('click', () => {
    const open = document.body.classList.toggle('menu-open');
    menu.setAttribute('aria-expanded', String(open));
  });

  // Search over the index in search-index.js: every word must appear; headings count most.
  const input = document.getElementById('search-input');
  const results = document.getElementById('search-results');
  const index = window.COURSE_SEARCH ?? [];
  const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const words = (query) => query.toLowerCase().split(/\s+/).filter(Boolean);

  function snippet(text, terms) {
    const lower = text.toLowerCase();
    const at = Math.max(0, lower.indexOf(terms[0]) - 40);
    let shown = escapeHtml(text.slice(at, at + 160));
    for (const term of terms) {
      shown = shown.replace(new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '<mark>$&</mark>');
    }
    return (at > 0 ? '… ' : '') + shown + (text.length > at + 160 ? ' …' : '');
  }

  function search(query) {
    const terms = words(query);
    if (terms.length === 0) return [];
    return index
      .map((entry) => {
        const heading = entry.heading.toLowerCase();
        const text = entry.text.toLowerCase();
        let score = 0;
        for (const term of terms) {
          if (heading.includes(term)) score += 10;
          else if (text.includes(term)) score += 1;
          else return null;
        }
        return { entry, score };
      })
      .filter(Boolean)
      .sort((a, b) => b.score - a.score)
      .slice(0, 12);
  }

  function show() {
    const terms = words(input.value);
    const found = search(input.value);
    results.hidden = terms.length === 0;
    results.innerHTML = found.length
      ? found
          .map(
            ({ entry }) =>
              `<li><a href="${entry.url}"><span class="where">${escapeHtml(entry.lesson)}</span>` +
              `<strong>${escapeHtml(entry.heading)}</strong><br>${snippet(entry.text, terms)}</a></li>`,
          )
          .join('')
      : '<li class="none">No section mentions that.</li>';
  }

  input?.addEventListener('input', show);
  input?.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      input.value = '';
      show();
    }
    if (event.key === 'Enter') results.querySelector('a')?.click();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === '/' && document.activeElement !== input) {
      event.preventDefault();
      input?.focus();
    }
  });
})();
