// Every page (static, no inline script; see the CSP in templating.py). Small screens and destructive actions:
// - the menu collapses behind a "Menu" button on narrow screens (without JavaScript it wraps, in full);
// - every table.list labels its cells with their column's header (data-label), so on a narrow screen, or
//   when a table is wider than the page, it shows as stacked rows ("plot: 1980:P01");
// - a form with data-confirm asks before it is sent; the answer goes with it as confirm=yes. Without
//   JavaScript the server answers such a form with a page that asks the same (sitematch.service.confirm).
(function () {
  'use strict';
  var root = document.documentElement;
  root.classList.add('js');

  // the menu
  var header = document.querySelector('header.top');
  var toggle = header && header.querySelector('.menu-toggle');
  var nav = header && header.querySelector('nav');
  if (toggle && nav) {
    nav.id = nav.id || 'site-nav';
    toggle.setAttribute('aria-controls', nav.id);
    toggle.addEventListener('click', function () {
      var open = !header.classList.contains('open');
      header.classList.toggle('open', open);
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  }

  // tables: each cell labelled by its column's header
  function headerRow(table) {
    var rows = table.rows;
    for (var i = 0; i < rows.length && i < 2; i++) {
      var cells = rows[i].cells;
      var allHeads = cells.length > 1;
      for (var j = 0; j < cells.length; j++) {
        if (cells[j].tagName !== 'TH') { allHeads = false; }
      }
      if (allHeads) { return rows[i]; }
    }
    return null;
  }

  function label(table) {
    var head = headerRow(table);
    if (!head) { return; }
    head.classList.add('labels');
    var names = [];
    for (var j = 0; j < head.cells.length; j++) {
      var text = head.cells[j].textContent.replace(/\s+/g, ' ').trim();
      for (var k = 0; k < (head.cells[j].colSpan || 1); k++) { names.push(text); }
    }
    for (var i = 0; i < table.rows.length; i++) {
      var row = table.rows[i];
      if (row === head) { continue; }
      var col = 0;
      for (var c = 0; c < row.cells.length; c++) {
        var cell = row.cells[c];
        var name = names[col];
        if (name && !cell.hasAttribute('data-label') && (cell.colSpan || 1) === 1) {
          cell.setAttribute('data-label', name);
        }
        if (!cell.children.length && !cell.textContent.trim()) { cell.classList.add('blank'); }
        col += cell.colSpan || 1;
      }
    }
  }

  var tables = document.querySelectorAll('table.list');
  for (var t = 0; t < tables.length; t++) { label(tables[t]); }

  // a table wider than the page (many columns at 1024 px) is stacked too
  function fit() {
    for (var t = 0; t < tables.length; t++) {
      var table = tables[t];
      table.classList.remove('stacked');
      var box = table.parentElement;
      if (box && table.offsetWidth > box.clientWidth + 1) { table.classList.add('stacked'); }
    }
  }
  fit();
  var pending = null;
  window.addEventListener('resize', function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(fit, 100);
  });

  // confirmations
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form || !form.hasAttribute || !form.hasAttribute('data-confirm')) { return; }
    if (!window.confirm(form.getAttribute('data-confirm'))) {
      event.preventDefault();
      return;
    }
    var answer = form.querySelector('input[name="confirm"]');
    if (!answer) {
      answer = document.createElement('input');
      answer.type = 'hidden';
      answer.name = 'confirm';
      form.appendChild(answer);
    }
    answer.value = 'yes';
  });
})();
