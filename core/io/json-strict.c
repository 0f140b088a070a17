/* espcn-gst: strict JSON checker (see json-strict.h for why it exists). */
#include "io/json-strict.h"

#include <string.h>

typedef struct {
  const char *s;
  gsize len;
  gsize pos;
  guint max_depth;
  const char *what;  /* first fault; pos is where it was seen */
} Checker;

static gboolean
fail (Checker *c, const char *what)
{
  if (c->what == NULL)
    c->what = what;
  return FALSE;
}

static void
skip_ws (Checker *c)
{
  while (c->pos < c->len) {
    char ch = c->s[c->pos];
    if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
      break;
    c->pos++;
  }
}

static int
hex_value (char ch)
{
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/* Reads 4 hex digits after "\u" at c->pos. */
static gboolean
read_u16 (Checker *c, guint *out)
{
  if (c->len - c->pos < 4)
    return fail (c, "truncated \\u escape");
  guint v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_value (c->s[c->pos + i]);
    if (h < 0)
      return fail (c, "invalid hex digit in \\u escape");
    v = v * 16 + (guint) h;
  }
  c->pos += 4;
  *out = v;
  return TRUE;
}

/* A string starting at the opening quote.  When `decoded` is non-NULL, the
 * unescaped content is appended to it (for duplicate-key detection). */
static gboolean
check_string (Checker *c, GString *decoded)
{
  c->pos++;  /* opening quote */
  for (;;) {
    if (c->pos >= c->len)
      return fail (c, "unterminated string");
    guchar ch = (guchar) c->s[c->pos];
    if (ch == '"') {
      c->pos++;
      return TRUE;
    }
    if (ch < 0x20)
      return fail (c, "control character in string (must be escaped)");
    if (ch != '\\') {
      if (decoded)
        g_string_append_c (decoded, (char) ch);
      c->pos++;
      continue;
    }
    c->pos++;
    if (c->pos >= c->len)
      return fail (c, "unterminated escape");
    char e = c->s[c->pos++];
    char simple = 0;
    switch (e) {
      case '"': simple = '"'; break;
      case '\\': simple = '\\'; break;
      case '/': simple = '/'; break;
      case 'b': simple = '\b'; break;
      case 'f': simple = '\f'; break;
      case 'n': simple = '\n'; break;
      case 'r': simple = '\r'; break;
      case 't': simple = '\t'; break;
      case 'u': break;
      default:
        c->pos--;
        return fail (c, "invalid escape in string");
    }
    if (simple) {
      if (decoded)
        g_string_append_c (decoded, simple);
      continue;
    }
    gsize at = c->pos - 2;
    guint u;
    if (!read_u16 (c, &u))
      return FALSE;
    gunichar cp = u;
    if (u == 0) {
      c->pos = at;
      return fail (c, "NUL character (\\u0000) in string");
    }
    if (u >= 0xDC00 && u <= 0xDFFF) {
      c->pos = at;
      return fail (c, "lone low surrogate escape in string");
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      guint lo;
      if (c->len - c->pos < 2 || c->s[c->pos] != '\\' || c->s[c->pos + 1] != 'u') {
        c->pos = at;
        return fail (c, "high surrogate escape not followed by a low surrogate");
      }
      c->pos += 2;
      if (!read_u16 (c, &lo))
        return FALSE;
      if (lo < 0xDC00 || lo > 0xDFFF) {
        c->pos = at;
        return fail (c, "high surrogate escape not followed by a low surrogate");
      }
      cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (decoded)
      g_string_append_unichar (decoded, cp);
  }
}

static gboolean
check_number (Checker *c)
{
  gsize start = c->pos;
  gboolean neg = FALSE;
  if (c->s[c->pos] == '-') {
    neg = TRUE;
    c->pos++;
  }
  if (c->pos >= c->len || !g_ascii_isdigit (c->s[c->pos]))
    return fail (c, "invalid number");
  gsize int_start = c->pos;
  if (c->s[c->pos] == '0') {
    c->pos++;
    if (c->pos < c->len && g_ascii_isdigit (c->s[c->pos]))
      return fail (c, "leading zero in number");
  } else {
    while (c->pos < c->len && g_ascii_isdigit (c->s[c->pos]))
      c->pos++;
  }
  gsize int_end = c->pos;
  gboolean is_integer = TRUE;
  if (c->pos < c->len && c->s[c->pos] == '.') {
    is_integer = FALSE;
    c->pos++;
    if (c->pos >= c->len || !g_ascii_isdigit (c->s[c->pos]))
      return fail (c, "digit expected after decimal point");
    while (c->pos < c->len && g_ascii_isdigit (c->s[c->pos]))
      c->pos++;
  }
  if (c->pos < c->len && (c->s[c->pos] == 'e' || c->s[c->pos] == 'E')) {
    is_integer = FALSE;
    c->pos++;
    if (c->pos < c->len && (c->s[c->pos] == '+' || c->s[c->pos] == '-'))
      c->pos++;
    if (c->pos >= c->len || !g_ascii_isdigit (c->s[c->pos]))
      return fail (c, "digit expected in exponent");
    while (c->pos < c->len && g_ascii_isdigit (c->s[c->pos]))
      c->pos++;
  }
  if (is_integer) {
    /* Magnitude must fit: 2^63 - 1, or 2^63 when negative. */
    guint64 limit = neg ? (guint64) G_MAXINT64 + 1 : (guint64) G_MAXINT64;
    guint64 v = 0;
    for (gsize i = int_start; i < int_end; i++) {
      guint d = (guint) (c->s[i] - '0');
      if (v > (limit - d) / 10) {
        c->pos = start;
        return fail (c, "integer outside the 64-bit signed range");
      }
      v = v * 10 + d;
    }
  }
  return TRUE;
}

static gboolean
check_literal (Checker *c, const char *word)
{
  gsize n = strlen (word);
  if (c->len - c->pos < n || memcmp (c->s + c->pos, word, n) != 0)
    return fail (c, "unexpected character");
  c->pos += n;
  return TRUE;
}

static gboolean check_value (Checker *c, guint depth);

static gboolean
check_object (Checker *c, guint depth)
{
  c->pos++;  /* '{' */
  skip_ws (c);
  if (c->pos < c->len && c->s[c->pos] == '}') {
    c->pos++;
    return TRUE;
  }
  g_autoptr (GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GString) key = g_string_new (NULL);
  for (;;) {
    skip_ws (c);
    if (c->pos >= c->len || c->s[c->pos] != '"')
      return fail (c, "object key (a string) expected");
    gsize key_pos = c->pos;
    g_string_truncate (key, 0);
    if (!check_string (c, key))
      return FALSE;
    if (g_hash_table_contains (keys, key->str)) {
      c->pos = key_pos;
      return fail (c, "duplicate key in object");
    }
    g_hash_table_add (keys, g_strdup (key->str));
    skip_ws (c);
    if (c->pos >= c->len || c->s[c->pos] != ':')
      return fail (c, "':' expected after object key");
    c->pos++;
    if (!check_value (c, depth))
      return FALSE;
    skip_ws (c);
    if (c->pos >= c->len)
      return fail (c, "unterminated object");
    if (c->s[c->pos] == ',') {
      c->pos++;
      continue;
    }
    if (c->s[c->pos] == '}') {
      c->pos++;
      return TRUE;
    }
    return fail (c, "',' or '}' expected in object");
  }
}

static gboolean
check_array (Checker *c, guint depth)
{
  c->pos++;  /* '[' */
  skip_ws (c);
  if (c->pos < c->len && c->s[c->pos] == ']') {
    c->pos++;
    return TRUE;
  }
  for (;;) {
    if (!check_value (c, depth))
      return FALSE;
    skip_ws (c);
    if (c->pos >= c->len)
      return fail (c, "unterminated array");
    if (c->s[c->pos] == ',') {
      c->pos++;
      continue;
    }
    if (c->s[c->pos] == ']') {
      c->pos++;
      return TRUE;
    }
    return fail (c, "',' or ']' expected in array");
  }
}

/* `depth` = containers already open around this value. */
static gboolean
check_value (Checker *c, guint depth)
{
  skip_ws (c);
  if (c->pos >= c->len)
    return fail (c, "value expected");
  switch (c->s[c->pos]) {
    case '{':
    case '[':
      if (depth >= c->max_depth)
        return fail (c, "nesting too deep");
      return c->s[c->pos] == '{' ? check_object (c, depth + 1) : check_array (c, depth + 1);
    case '"':
      return check_string (c, NULL);
    case 't':
      return check_literal (c, "true");
    case 'f':
      return check_literal (c, "false");
    case 'n':
      return check_literal (c, "null");
    default:
      if (c->s[c->pos] == '-' || g_ascii_isdigit (c->s[c->pos]))
        return check_number (c);
      return fail (c, "unexpected character");
  }
}

gboolean
espcn_json_check_strict (const char *text, gsize len, guint max_depth,
                         gsize *err_pos, const char **err_what)
{
  Checker c = { .s = text, .len = len, .pos = 0, .max_depth = max_depth, .what = NULL };
  const char *end = NULL;

  if (!g_utf8_validate_len (text, len, &end)) {
    c.pos = (gsize) (end - text);
    c.what = (c.pos < len && text[c.pos] == '\0') ? "NUL byte in JSON text" : "invalid UTF-8";
  } else if (check_value (&c, 0)) {
    skip_ws (&c);
    if (c.pos == len)
      return TRUE;
    c.what = "trailing characters after the JSON value";
  }
  if (err_pos)
    *err_pos = c.pos;
  if (err_what)
    *err_what = c.what ? c.what : "invalid JSON";
  return FALSE;
}
