// The trail editor: a problem's "Line N" link selects that line in the Markdown.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-line]");
  const source = document.getElementById("source");
  if (!link || !source) return;
  event.preventDefault();
  const lines = source.value.split("\n");
  const line = Math.min(Number(link.dataset.line), lines.length);
  const start = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
  source.focus();
  source.setSelectionRange(start, start + lines[line - 1].length);
  const lineHeight = parseFloat(getComputedStyle(source).lineHeight) || 20;
  source.scrollTop = Math.max(0, (line - 3) * lineHeight);
});
