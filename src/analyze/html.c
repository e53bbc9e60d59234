// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "analyze/html.h"
#include "lib/htmlesc.h"
#include "lib/table.h"

void html__escape_n(FILE *f, const char *s, size_t n)
{
	htmlesc__write_n(f, s, n);
}

void html__escape(FILE *f, const char *s)
{
	htmlesc__write(f, s);
}

int html__ellipsize(const char *s, size_t max_chars, char *out, size_t outsz)
{
	return htmlesc__ellipsize(s, max_chars, out, outsz);
}

/*
 * Light and print-friendly; dark mode recolours the page but keeps charts on white, since they
 * carry their own colours. No web fonts: system stacks only.
 */
static const char html_css[] =
	":root{--fg:#1d2330;--muted:#5d6675;--bg:#fff;--line:#d8dde5;--head:#f3f5f8;"
	"--pass:#1a7f37;--breach:#c62828;--warn:#9a6700}\n"
	"@media (prefers-color-scheme: dark){:root{--fg:#e6e8eb;--muted:#9aa3ae;--bg:#161a20;"
	"--line:#39404b;--head:#222831;--pass:#4cc26b;--breach:#ff6b6b;--warn:#e3b341}}\n"
	"body{margin:0 auto;max-width:1180px;padding:16px 24px 48px;color:var(--fg);"
	"background:var(--bg);font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
	"'DejaVu Sans',sans-serif}\n"
	"h1{font-size:1.6em;margin:.4em 0 .6em}h2{font-size:1.3em;margin:1.6em 0 .5em;"
	"border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1.1em;"
	"margin:1.2em 0 .4em}h4{font-size:1em;margin:1em 0 .3em}\n"
	"code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:.92em}\n"
	/* A wide table scrolls in its own box rather than widening the page. */
	"table{border-collapse:collapse;margin:.5em 0 1em;font-size:.92em;display:block;"
	"max-width:100%;overflow-x:auto}\n"
	"caption{text-align:left;color:var(--muted);padding:.2em 0}\n"
	"th,td{border:1px solid var(--line);padding:.25em .6em;vertical-align:top}\n"
	"th{background:var(--head);text-align:left}\n"
	"td:not(:first-child),th:not(:first-child){text-align:right;"
	"font-variant-numeric:tabular-nums}\n"
	"td:first-child{overflow-wrap:break-word;max-width:38em}\n"
	/* Numbers stay on one line ("50.59 -> 20.58"); text cells (styled left) wrap. */
	"td:not(:first-child){white-space:nowrap}td[style]{white-space:normal}\n"
	/* The verdict cell of a row is coloured, nothing else of it (a first breach is no pass). */
	"tr.pass td.verdict,tr.improved td.verdict,.badge.pass,.badge.improved"
	"{color:var(--pass);font-weight:600}\n"
	"tr.breach td.verdict,tr.regressed td.verdict,.badge.breach,.badge.regressed,"
	"td.breach{color:var(--breach);font-weight:600}\n"
	"tr.insufficient td.verdict,.badge.insufficient{color:var(--warn);font-weight:600}\n"
	"tr.unchanged td.verdict,.badge.unchanged,.muted{color:var(--muted)}\n"
	"td.verdict,th.verdict{text-align:left}\n"
	"p,li{overflow-wrap:anywhere}\n"
	"th[data-sort]{cursor:pointer}th[data-sort]:after{content:' \\2195';color:var(--muted)}\n"
	".banner{border-radius:6px;padding:.6em 1em;margin:.6em 0;border:2px solid}\n"
	".banner.pass{border-color:var(--pass)}.banner.breach{border-color:var(--breach)}"
	".banner.insufficient{border-color:var(--warn)}\n"
	".banner .head{font-size:1.25em;font-weight:700}\n"
	".banner.pass .head{color:var(--pass)}.banner.breach .head{color:var(--breach)}"
	".banner.insufficient .head{color:var(--warn)}\n"
	".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:0 12px}\n"
	"@media (max-width:900px){.grid{grid-template-columns:1fr}}\n"
	"details>summary{cursor:pointer;font-weight:600;margin:.6em 0}\n"
	".badge{border:1px solid currentColor;border-radius:3px;padding:0 .35em}\n"
	".note{border-left:3px solid var(--warn);padding:.2em .7em;background:var(--head)}\n"
	"figure.chart{margin:.6em 0 1.2em;padding:4px;background:#fff;border:1px solid "
	"var(--line);border-radius:4px}\n"
	"figure.chart svg{display:block;width:100%;height:auto}\n"
	"figcaption{color:#5d6675;font-size:.88em;padding:.2em .4em}\n"
	"@media print{body{max-width:none;padding:0;font-size:11pt}"
	"figure.chart,table,tr{break-inside:avoid}h2,h3{break-after:avoid}}\n";

void html__begin(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	      "<title>",
	      f);
	html__escape(f, title);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", html_css);
	html__escape(f, title);
	fputs("</h1>\n", f);
}

int html__end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}

void html__section_begin(FILE *f, int level, const char *title, const char *id)
{
	if (level < 2)
		level = 2;
	if (level > 4)
		level = 4;
	fputs("<section", f);
	if (id && *id) {
		fputs(" id=\"", f);
		html__escape(f, id);
		putc('"', f);
	}
	fprintf(f, ">\n<h%d>", level);
	html__escape(f, title);
	fprintf(f, "</h%d>\n", level);
}

void html__section_end(FILE *f)
{
	fputs("</section>\n", f);
}

static void class_attr(FILE *f, const char *cls)
{
	if (!cls || !*cls)
		return;
	fputs(" class=\"", f);
	html__escape(f, cls);
	putc('"', f);
}

void html__p(FILE *f, const char *cls, const char *text)
{
	fputs("<p", f);
	class_attr(f, cls);
	putc('>', f);
	html__escape(f, text);
	fputs("</p>\n", f);
}

void html__table_begin_aligned(FILE *f, const char *caption, const char *const *headers,
			       size_t ncols, const char *align)
{
	fputs("<table>\n", f);
	if (caption && *caption) {
		fputs("<caption>", f);
		html__escape(f, caption);
		fputs("</caption>\n", f);
	}
	if (headers && ncols) {
		fputs("<thead><tr>", f);
		for (size_t i = 0; i < ncols; i++) {
			table__html_cell(f, "th", align, i);
			html__escape(f, headers[i]);
			fputs("</th>", f);
		}
		fputs("</tr></thead>\n", f);
	}
	fputs("<tbody>\n", f);
}

void html__table_begin(FILE *f, const char *caption, const char *const *headers, size_t ncols)
{
	html__table_begin_aligned(f, caption, headers, ncols, NULL);
}

void html__row(FILE *f, const struct html_row *row)
{
	fputs("<tr", f);
	if (row->id && *row->id) {
		fputs(" id=\"", f);
		html__escape(f, row->id);
		putc('"', f);
	}
	class_attr(f, row->cls);
	putc('>', f);
	for (size_t i = 0; i < row->n; i++) {
		const char *title = row->titles ? row->titles[i] : NULL;

		table__html_cell(f, "td", row->align, i);
		/* A cut value keeps its whole text in a tooltip, inside the cell. */
		if (title && *title) {
			fputs("<span title=\"", f);
			html__escape(f, title);
			fputs("\">", f);
		}
		if (row->cells)
			html__escape(f, row->cells[i]);
		if (title && *title)
			fputs("</span>", f);
		fputs("</td>", f);
	}
	fputs("</tr>\n", f);
}

void html__table_row_aligned(FILE *f, const char *cls, const char *const *cells, size_t ncols,
			     const char *align)
{
	struct html_row row = { .cls = cls, .cells = cells, .n = ncols, .align = align };

	html__row(f, &row);
}

void html__table_row(FILE *f, const char *cls, const char *const *cells, size_t ncols)
{
	html__table_row_aligned(f, cls, cells, ncols, NULL);
}

void html__table_end(FILE *f)
{
	fputs("</tbody>\n</table>\n", f);
}

void html__badge(FILE *f, const char *cls, const char *text)
{
	fputs("<span class=\"badge", f);
	if (cls && *cls) {
		putc(' ', f);
		html__escape(f, cls);
	}
	fputs("\">", f);
	html__escape(f, text);
	fputs("</span>", f);
}

void html__figure_begin(FILE *f)
{
	fputs("<figure class=\"chart\">\n", f);
}

void html__figure_end(FILE *f, const char *caption)
{
	if (caption && *caption) {
		fputs("<figcaption>", f);
		html__escape(f, caption);
		fputs("</figcaption>\n", f);
	}
	fputs("</figure>\n", f);
}

void html__details_begin(FILE *f, const char *summary, bool open)
{
	fputs(open ? "<details open=\"open\">\n<summary>" : "<details>\n<summary>", f);
	html__escape(f, summary);
	fputs("</summary>\n", f);
}

void html__details_end(FILE *f)
{
	fputs("</details>\n", f);
}

void html__link(FILE *f, const char *href, const char *text)
{
	fputs("<a href=\"", f);
	html__escape(f, href);
	fputs("\">", f);
	html__escape(f, text);
	fputs("</a>", f);
}

/*
 * Click a column's head to sort by it, again to reverse: numbers by value ("12.5 ms" is 12.5),
 * text as text. Without script the tables read as written. No '<' or '&' in it, so the page
 * stays well-formed XML without a CDATA section.
 */
static const char sort_js[] =
	"document.querySelectorAll('table').forEach(function(t){"
	"if(!t.tHead||!t.tBodies.length)return;"
	"Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h,i){"
	"h.setAttribute('data-sort','');h.title='sort by this column';"
	"h.addEventListener('click',function(){"
	"var d=h.getAttribute('data-sort')==='up'?-1:1,b=t.tBodies[0];"
	"h.setAttribute('data-sort',d===1?'up':'down');"
	"var key=function(r){var c=r.cells[i],s=c?c.textContent.trim():'',"
	"n=parseFloat(s.replace(/^[^0-9.+-]+/,''));return isNaN(n)?s:n};"
	"Array.prototype.slice.call(b.rows).sort(function(x,y){var a=key(x),c=key(y);"
	"if(typeof a!==typeof c){a=String(a);c=String(c)}"
	"return (a>c?1:c>a?-1:0)*d}).forEach(function(r){b.appendChild(r)})})})});\n";

void html__sort_script(FILE *f)
{
	fprintf(f, "<script>\n%s</script>\n", sort_js);
}
