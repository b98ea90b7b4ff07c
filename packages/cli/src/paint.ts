/** Terminal colours, only when stdout is a terminal and NO_COLOR is not set. */
const enabled = process.stdout.isTTY === true && !process.env.NO_COLOR;
const style = (open: number, close: number) => (text: string) =>
  enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;

export const paint = {
  bold: style(1, 22),
  dim: style(2, 22),
  red: style(31, 39),
  green: style(32, 39),
  yellow: style(33, 39),
  cyan: style(36, 39),
};
