// Copying text for a person to paste elsewhere (an invitation link, an API token).

/**
 * Copy `text`; true when it worked. The Clipboard API needs a secure context, so on plain
 * http the older way copies what `input` holds (selected first, as a person would).
 */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}
