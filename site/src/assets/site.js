// Sockets, by hand: the little the pages need in the browser. Plain script, no modules, so that
// it also runs when the pages are opened straight from disk (file://).
(() => {
  // The page's own words (the edition's language), set on <body> by the build.
  const say = document.body.dataset;

  // Copy buttons on every code block.
  for (const button of document.querySelectorAll('figure.code .copy')) {
    button.addEventListener('click', async () => {
      const code = button.parentElement.querySelector('pre code')?.textContent ?? '';
      try {
        await navigator.clipboard.writeText(code.replace(/\n$/, ''));
        button.textContent = say.copied;
      } catch {
        button.textContent = say.select;
      }
      setTimeout(() => {
        button.textContent = say.copy;
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

  // The language switch: the same section in the other edition (both have the same headings in
  // the same order), and the choice remembered for the next visit to the home page.
  const edition = document.querySelector('.top .edition');
  edition?.addEventListener('click', (event) => {
    const ids = JSON.parse(edition.dataset.ids || '[]');
    const headings = [
      ...document.querySelectorAll(
        'main h1[id], main h2[id], main h3[id], main h4[id], main h5[id], main h6[id]',
      ),
    ];
    const wanted = decodeURIComponent(location.hash.slice(1));
    let at = headings.findIndex((h) => h.id === wanted);
    if (at < 0) {
      // The last heading above the top of the window is the section being read.
      at = 0;
      headings.forEach((h, i) => {
        if (h.getBoundingClientRect().top <= 80) at = i;
      });
    }
    try {
      localStorage.setItem('course-lang', edition.dataset.lang);
    } catch {
      // Storage may be off (a private window, a page from disk): the switch still works.
    }
    if (ids.length === 0 || at === 0) return;
    event.preventDefault();
    location.href = `${edition.getAttribute('href')}#${ids[at]}`;
  });
  if (document.body.classList.contains('home') || document.querySelector('.sidebar a.home.current')) {
    let chosen = null;
    try {
      chosen = localStorage.getItem('course-lang');
    } catch {}
    if (chosen && edition && chosen === edition.dataset.lang) location.replace(edition.getAttribute('href'));
  }

  // Search with MiniSearch over this edition's index (search-index.<lang>.js), tokenized the
  // same way as at build time (tokenize.js): every word must match, as a prefix; headings count most.
  // The index is most of a megabyte, and building the engine from it takes a moment: both wait
  // until the reader comes to the search box (script tags, which work from disk too).
  const input = document.getElementById('search-input');
  const results = document.getElementById('search-results');
  let engine = null;
  let loading = null;
  const loadScript = (src) =>
    new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.async = false; // in order: the index after the engine
      script.onload = resolve;
      script.onerror = () => reject(new Error(`${src} did not load`));
      document.head.append(script);
    });
  function loadSearch() {
    loading ??= Promise.all((input?.dataset.scripts ?? '').split(' ').filter(Boolean).map(loadScript))
      .then(() => {
        const { options, index } = window.COURSE_SEARCH ?? {};
        engine =
          window.MiniSearch && index
            ? window.MiniSearch.loadJS(index, { ...options, tokenize: window.courseTokenize })
            : null;
      })
      .catch(() => {}); // no engine: a search finds nothing, and says so
    return loading;
  }
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
    if (!engine || window.courseTokenize(query).length === 0) return [];
    return engine
      .search(query, {
        prefix: true,
        combineWith: 'AND',
        boost: { heading: 3 },
        // Typos in longer Latin words only: a Chinese pair has no near miss worth showing.
        fuzzy: (term) => (term.length > 4 && /^[a-z]/.test(term) ? 0.2 : false),
      })
      .slice(0, 12)
      .map((entry) => ({ entry }));
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
      : `<li class="none">${escapeHtml(say.none)}</li>`;
  }

  input?.addEventListener('focus', loadSearch);
  input?.addEventListener('input', () => loadSearch().then(show));
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
