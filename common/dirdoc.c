/* Directory documents: the line cursor, field checks and descriptors
 * (docs/spec.md, "Directory"); consensuses are in dirdoc_consensus.c. */
#include "common/dirdoc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/dirdoc_int.h"
#include "common/encode.h"
#include "common/util.h"

const char *const dirdoc_role_names[2] = { "mix", "mailbox" };
static const char *const flag_names[] = { "Running", "Valid", "Mailbox", "Stable" };

/* Every keyword of every document, to tell "unknown" from "out of order". */
static const char *const known_kw[] = {
	"burrow-descriptor", "nickname", "identity", "link-key", "packet-key", "address",
	"roles", "bandwidth", "family", "contact", "software", "published", "signature",
	"burrow-consensus", "epoch", "epoch-seconds", "valid-after", "fresh-until",
	"valid-until", "relay-count", "relay", "flags", "directory-footer",
	"directory-signature", "end", "burrow-vote", "authority", "vote-relay",
	"vote-footer", "vote-signature",
};

__attribute__((format(printf, 3, 4))) void
dirdoc_say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

uint64_t
dirdoc_epoch_of(uint64_t t, uint64_t epoch_len)
{
	return epoch_len ? t / epoch_len : 0;
}

void
dirdoc_epoch_window(uint64_t e, uint64_t epoch_len, uint64_t *valid_after, uint64_t *fresh_until,
		    uint64_t *valid_until)
{
	*valid_after = e * epoch_len;
	*fresh_until = (e + 1) * epoch_len;
	*valid_until = (e + DIRDOC_VALID_EPOCHS) * epoch_len;
}

/* --- the line cursor ------------------------------------------------- */

void
dirdoc_lines_init(struct dirdoc_lines *l, const char *text, size_t len)
{
	memset(l, 0, sizeof(*l));
	l->text = text;
	l->len = len;
	l->kw = l->args = "";
}

int
dirdoc_line_next(struct dirdoc_lines *l)
{
	const char *p, *nl;
	size_t left, n, i;
	char *sp;

	l->kw = l->args = "";
	if (l->pos >= l->len)
		return ERR_TRUNCATED;
	p = l->text + l->pos;
	left = l->len - l->pos;
	nl = memchr(p, '\n', MIN(left, (size_t)DIRDOC_LINE_MAX + 1));
	if (!nl)
		return left > DIRDOC_LINE_MAX ? ERR_TOO_BIG : ERR_TRUNCATED;
	n = (size_t)(nl - p);
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return ERR_MALFORMED;
	memcpy(l->buf, p, n);
	l->buf[n] = '\0';
	l->line_start = l->pos;
	l->pos += n + 1;
	l->lineno++;
	if (n == 0)
		return ERR_MALFORMED;
	for (i = 0; i < n && l->buf[i] != ' '; i++) {
		char c = l->buf[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return ERR_MALFORMED;
	}
	if (i == 0)
		return ERR_MALFORMED;
	l->kw = l->buf;
	if ((sp = strchr(l->buf, ' ')) != NULL) {
		*sp = '\0';
		l->args = sp + 1;
		/* "kw" alone, or "kw args" with no space at either end of args */
		if (l->args[0] == '\0' || l->args[0] == ' ' || l->buf[n - 1] == ' ')
			return ERR_MALFORMED;
	}
	return 0;
}

static bool
kw_known(const char *kw)
{
	for (size_t i = 0; i < ARRAY_LEN(known_kw); i++)
		if (strcmp(kw, known_kw[i]) == 0)
			return true;
	return false;
}

int
dirdoc_line_expect(struct dirdoc_lines *l, const char *kw, char *why, size_t whylen)
{
	char prev[32] = "";
	size_t plen = strlen(l->kw);
	int r;

	if (plen < sizeof(prev))
		memcpy(prev, l->kw, plen + 1);
	r = dirdoc_line_next(l);
	switch (r) {
	case 0:
		break;
	case ERR_TRUNCATED:
		dirdoc_say(why, whylen, "document ends before '%s' line", kw);
		return r;
	case ERR_TOO_BIG:
		dirdoc_say(why, whylen, "line %u: longer than %d bytes", l->lineno + 1, DIRDOC_LINE_MAX);
		return r;
	default:
		dirdoc_say(why, whylen, "line %u: not a 'keyword args' line of printable ASCII",
		    l->lineno);
		return r;
	}
	if (strcmp(l->kw, kw) == 0)
		return 0;
	if (prev[0] && strcmp(l->kw, prev) == 0)
		dirdoc_say(why, whylen, "line %u: duplicate keyword '%s'", l->lineno, l->kw);
	else if (kw_known(l->kw))
		dirdoc_say(why, whylen, "line %u: keyword '%s' out of place, expected '%s'", l->lineno,
		    l->kw, kw);
	else
		dirdoc_say(why, whylen, "line %u: unknown keyword '%.40s', expected '%s'", l->lineno,
		    l->kw, kw);
	return ERR_MALFORMED;
}

int
dirdoc_split(struct dirdoc_lines *l, char **fields, int max)
{
	char *p = (char *)l->args;
	int n = 0;

	if (*p == '\0')
		return 0;
	for (;;) {
		char *sp = strchr(p, ' ');

		if (n == max || *p == '\0' || *p == ' ')
			return -1;
		fields[n++] = p;
		if (!sp)
			return n;
		*sp = '\0';
		p = sp + 1;
	}
}

/* --- fields ---------------------------------------------------------- */

int
dirdoc_hex32(uint8_t out[static 32], const char *s)
{
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return ERR_MALFORMED;	/* canonical: lowercase only */
	return hex_decode(out, 32, s) == 0 ? 0 : ERR_MALFORMED;
}

int
dirdoc_hex64(uint8_t out[static 64], const char *s)
{
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return ERR_MALFORMED;
	return hex_decode(out, 64, s) == 0 ? 0 : ERR_MALFORMED;
}

int
dirdoc_u64(uint64_t *out, const char *s)
{
	*out = 0;
	/* canonical decimal: no sign, no leading zero, at most 20 digits */
	if (s[0] == '\0' || strlen(s) > 20 || (s[0] == '0' && s[1] != '\0'))
		return ERR_MALFORMED;
	return parse_u64(s, 0, UINT64_MAX, out) == 0 ? 0 : ERR_MALFORMED;
}

bool
dirdoc_nick_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > DIRDOC_NICK_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static bool
text_ok(const char *s)
{
	size_t n = strnlen(s, DIRDOC_TEXT_MAX + 1);

	if (n > DIRDOC_TEXT_MAX || (n && (s[0] == ' ' || s[n - 1] == ' ')))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* A canonical decimal in [0, max] from *p up to a byte in stops: no sign,
 * no leading zero. Advances *p; -1 if none. */
static long
dec_field(const char **p, long max)
{
	const char *s = *p;
	long v = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	*p = s;
	return v;
}

/* "A.B.C.D:PORT" in its one canonical spelling (this runs once per relay
 * in a consensus, so it avoids scanf). */
int
dirdoc_addr_parse(const char *s, char host[static 64], uint16_t *port)
{
	const char *p = s;
	long v;

	host[0] = '\0';
	*port = 0;
	for (int i = 0; i < 4; i++) {
		if (dec_field(&p, 255) < 0 || *p++ != (i < 3 ? '.' : ':'))
			return ERR_MALFORMED;
	}
	if ((v = dec_field(&p, 65535)) < 1 || *p != '\0')
		return ERR_MALFORMED;
	/* at most 15 bytes of host before the colon */
	memcpy(host, s, (size_t)(strchr(s, ':') - s));
	host[strchr(s, ':') - s] = '\0';
	*port = (uint16_t)v;
	return 0;
}

static bool
addr_ok(const char *host, uint16_t port)
{
	char s[96], h[64];
	uint16_t p;

	if (strnlen(host, 64) >= 64)
		return false;
	snprintf(s, sizeof(s), "%s:%u", host, port);
	return dirdoc_addr_parse(s, h, &p) == 0;
}

static int
words_parse(struct dirdoc_lines *l, const char *const *names, size_t nnames, bool allow_none,
	    uint32_t *out, char *why, size_t whylen, const char *what)
{
	char *f[8];
	int n = dirdoc_split(l, f, 8);
	size_t last = 0;

	*out = 0;
	if (n < 0 || (n == 0 && !allow_none)) {
		dirdoc_say(why, whylen, "line %u: bad %s list", l->lineno, what);
		return ERR_MALFORMED;
	}
	for (int i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < nnames && strcmp(f[i], names[j]) != 0; j++)
			;
		if (j == nnames) {
			dirdoc_say(why, whylen, "line %u: unknown %s '%.32s'", l->lineno, what, f[i]);
			return ERR_MALFORMED;
		}
		if (i > 0 && j <= last) {
			dirdoc_say(why, whylen, "line %u: %s '%s' repeated or out of order", l->lineno,
			    what, f[i]);
			return ERR_MALFORMED;
		}
		last = j;
		*out |= 1u << j;
	}
	return 0;
}

void
dirdoc_words_str(char *out, size_t outlen, const char *const *names, size_t nnames, uint32_t bits)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t j = 0; j < nnames; j++) {
		if (!(bits & (1u << j)))
			continue;
		used += (size_t)snprintf(out + used, outlen > used ? outlen - used : 0, "%s%s",
					 used ? " " : "", names[j]);
	}
}

void
dirdoc_flags_str(char *out, size_t outlen, uint32_t flags)
{
	dirdoc_words_str(out, outlen, flag_names, ARRAY_LEN(flag_names), flags);
}

int
dirdoc_flags_parse(struct dirdoc_lines *l, uint32_t *flags)
{
	return words_parse(l, flag_names, ARRAY_LEN(flag_names), true, flags, NULL, 0, "flag");
}

int
dirdoc_authority_parse(const char *value, uint8_t pk[static ID_PK_LEN], char host[static 64],
		       uint16_t *port)
{
	char hex[65];
	const char *sp = strchr(value, ' ');

	memset(pk, 0, ID_PK_LEN);
	if (!sp || sp - value != 64)
		return ERR_MALFORMED;
	memcpy(hex, value, 64);
	hex[64] = '\0';
	if (hex_decode(pk, ID_PK_LEN, hex) < 0 || parse_hostport(sp + 1, host, port) < 0) {
		memset(pk, 0, ID_PK_LEN);
		return ERR_MALFORMED;
	}
	return 0;
}

/* --- relay fields shared by descriptors and consensus blocks ---------- */

/* Check the fields an encoder is about to write. */
bool
dirdoc_relay_ok(const struct dirdoc_relay *r)
{
	if (!dirdoc_nick_ok(r->nickname) || !addr_ok(r->host, r->port) || r->port == 0)
		return false;
	if (r->roles == 0 || (r->roles & ~(uint32_t)(DIRDOC_ROLE_MIX | DIRDOC_ROLE_MAILBOX)))
		return false;
	if (r->key_epoch[0] == UINT64_MAX || r->key_epoch[1] != r->key_epoch[0] + 1)
		return false;
	if (r->nfamily > DIRDOC_FAMILY_MAX || (r->flags & ~DIRDOC_FLAGS_ALL))
		return false;
	for (size_t i = 1; i < r->nfamily; i++)
		if (memcmp(r->family[i - 1], r->family[i], NODE_ID_LEN) >= 0)
			return false;
	return text_ok(r->contact) && text_ok(r->software);
}

void
dirdoc_put_hex(struct wbuf *w, const uint8_t *p, size_t n)
{
	char hex[HEX_LEN(64) + 1];

	hex_encode(hex, p, n);
	wbuf_put(w, hex, HEX_LEN(n));
}

static void
put_line_hex(struct wbuf *w, const char *kw, const uint8_t *p, size_t n)
{
	wbuf_printf(w, "%s ", kw);
	dirdoc_put_hex(w, p, n);
	wbuf_put(w, "\n", 1);
}

/* link-key, packet-key ×2 (consensus and descriptor share these lines). */
void
dirdoc_put_keys(struct wbuf *w, const struct dirdoc_relay *r)
{
	put_line_hex(w, "link-key", r->link_pk, X_PK_LEN);
	for (int i = 0; i < 2; i++) {
		wbuf_printf(w, "packet-key %llu ", (unsigned long long)r->key_epoch[i]);
		dirdoc_put_hex(w, r->packet_pk[i], X_PK_LEN);
		wbuf_put(w, "\n", 1);
	}
}

void
dirdoc_put_family(struct wbuf *w, const struct dirdoc_relay *r)
{
	wbuf_printf(w, "family");
	for (size_t i = 0; i < r->nfamily; i++) {
		wbuf_put(w, " ", 1);
		dirdoc_put_hex(w, r->family[i], NODE_ID_LEN);
	}
	wbuf_put(w, "\n", 1);
}


int
dirdoc_get_keys(struct dirdoc_lines *l, struct dirdoc_relay *out, char *why, size_t whylen)
{
	char *f[2];
	int r;

	EXPECT("link-key");
	if (dirdoc_hex32(out->link_pk, l->args) < 0)
		BAD("line %u: link-key is not 64 lowercase hex digits", l->lineno);
	for (int i = 0; i < 2; i++) {
		EXPECT("packet-key");
		if (dirdoc_split(l, f, 2) != 2 || dirdoc_u64(&out->key_epoch[i], f[0]) < 0 ||
		    dirdoc_hex32(out->packet_pk[i], f[1]) < 0)
			BAD("line %u: packet-key is not 'EPOCH HEX'", l->lineno);
	}
	if (out->key_epoch[0] == UINT64_MAX || out->key_epoch[1] != out->key_epoch[0] + 1)
		BAD("line %u: packet keys are not for two consecutive epochs", l->lineno);
	return 0;
}

int
dirdoc_get_family(struct dirdoc_lines *l, struct dirdoc_relay *out, char *why, size_t whylen)
{
	char *f[DIRDOC_FAMILY_MAX];
	int n, r;

	EXPECT("family");
	if ((n = dirdoc_split(l, f, DIRDOC_FAMILY_MAX)) < 0)
		BAD("line %u: family lists more than %d node ids", l->lineno, DIRDOC_FAMILY_MAX);
	for (int i = 0; i < n; i++) {
		if (dirdoc_hex32(out->family[i], f[i]) < 0)
			BAD("line %u: family member is not a hex node id", l->lineno);
		if (i && memcmp(out->family[i - 1], out->family[i], NODE_ID_LEN) >= 0)
			BAD("line %u: family not in ascending order", l->lineno);
	}
	out->nfamily = (size_t)n;
	return 0;
}

int
dirdoc_get_roles(struct dirdoc_lines *l, struct dirdoc_relay *out, char *why, size_t whylen)
{
	int r;

	EXPECT("roles");
	return words_parse(l, dirdoc_role_names, ARRAY_LEN(dirdoc_role_names), false, &out->roles, why, whylen,
			   "role");
}

int
dirdoc_get_u64(struct dirdoc_lines *l, const char *kw, uint64_t *v, char *why, size_t whylen)
{
	int r;

	EXPECT(kw);
	if (dirdoc_u64(v, l->args) < 0)
		BAD("line %u: %s is not a decimal number", l->lineno, kw);
	return 0;
}

static int
get_text(struct dirdoc_lines *l, const char *kw, char out[static DIRDOC_TEXT_MAX + 1], char *why,
	 size_t whylen)
{
	int r;

	EXPECT(kw);
	if (strlen(l->args) > DIRDOC_TEXT_MAX)
		BAD("line %u: %s longer than %d bytes", l->lineno, kw, DIRDOC_TEXT_MAX);
	snprintf(out, DIRDOC_TEXT_MAX + 1, "%s", l->args);
	return 0;
}

/* --- descriptors ----------------------------------------------------- */

int
dirdoc_descriptor_encode(const struct dirdoc_relay *rin, const struct id_keypair *kp, char **out,
			 size_t *len)
{
	struct wbuf w = wbuf_dyn(DIRDOC_DESC_MAX);
	char roles[32];
	uint8_t sig[ID_SIG_LEN];

	*out = NULL;
	*len = 0;
	if (!dirdoc_relay_ok(rin) || rin->flags)
		return ERR_MALFORMED;
	dirdoc_words_str(roles, sizeof(roles), dirdoc_role_names, ARRAY_LEN(dirdoc_role_names), rin->roles);
	wbuf_printf(&w, "burrow-descriptor 1\nnickname %s\n", rin->nickname);
	put_line_hex(&w, "identity", kp->pk, ID_PK_LEN);
	dirdoc_put_keys(&w, rin);
	wbuf_printf(&w, "address %s:%u\nroles %s\nbandwidth %llu\n", rin->host, rin->port, roles,
		    (unsigned long long)rin->bandwidth);
	dirdoc_put_family(&w, rin);
	wbuf_printf(&w, "contact%s%s\nsoftware%s%s\npublished %llu\n", rin->contact[0] ? " " : "",
		    rin->contact, rin->software[0] ? " " : "", rin->software,
		    (unsigned long long)rin->published);
	if (wbuf_done(&w) < 0) {
		wbuf_clear(&w);
		return ERR_TOO_BIG;
	}
	id_sign(sig, w.p, w.len, kp);
	put_line_hex(&w, "signature", sig, ID_SIG_LEN);
	if (wbuf_done(&w) < 0) {
		wbuf_clear(&w);
		return ERR_TOO_BIG;
	}
	*out = wbuf_take(&w, len);
	return 0;
}

static int
descriptor_fields(struct dirdoc_lines *l, struct dirdoc_relay *out, char *why, size_t whylen)
{
	int r;

	EXPECT("burrow-descriptor");
	if (strcmp(l->args, "1") != 0) {
		dirdoc_say(why, whylen, "unsupported descriptor version '%.16s'", l->args);
		return ERR_UNSUPPORTED;
	}
	EXPECT("nickname");
	if (!dirdoc_nick_ok(l->args))
		BAD("line %u: nickname must be 1-%d letters and digits", l->lineno,
		    DIRDOC_NICK_MAX);
	snprintf(out->nickname, sizeof(out->nickname), "%s", l->args);
	EXPECT("identity");
	if (dirdoc_hex32(out->id_pk, l->args) < 0)
		BAD("line %u: identity is not 64 lowercase hex digits", l->lineno);
	node_id_of(out->node_id, out->id_pk);
	if ((r = dirdoc_get_keys(l, out, why, whylen)) < 0)
		return r;
	EXPECT("address");
	if (dirdoc_addr_parse(l->args, out->host, &out->port) < 0)
		BAD("line %u: address is not a canonical IPV4:PORT", l->lineno);
	if ((r = dirdoc_get_roles(l, out, why, whylen)) < 0)
		return r;
	if ((r = dirdoc_get_u64(l, "bandwidth", &out->bandwidth, why, whylen)) < 0)
		return r;
	if ((r = dirdoc_get_family(l, out, why, whylen)) < 0)
		return r;
	if ((r = get_text(l, "contact", out->contact, why, whylen)) < 0)
		return r;
	if ((r = get_text(l, "software", out->software, why, whylen)) < 0)
		return r;
	return dirdoc_get_u64(l, "published", &out->published, why, whylen);
}

int
dirdoc_descriptor_parse(const char *text, size_t len, struct dirdoc_relay *out, char *why,
			size_t whylen)
{
	struct dirdoc_lines *l;
	size_t body_len;
	int r;

	memset(out, 0, sizeof(*out));
	dirdoc_say(why, whylen, "ok");
	if (len > DIRDOC_DESC_MAX) {
		dirdoc_say(why, whylen, "descriptor is %zu bytes, over the %d-byte limit", len,
		    DIRDOC_DESC_MAX);
		return ERR_TOO_BIG;
	}
	l = xmalloc(sizeof(*l));
	dirdoc_lines_init(l, text, len);
	if ((r = descriptor_fields(l, out, why, whylen)) < 0)
		goto out;
	if ((r = dirdoc_line_expect(l, "signature", why, whylen)) < 0)
		goto out;
	body_len = l->line_start;
	if (dirdoc_hex64(out->sig, l->args) < 0) {
		dirdoc_say(why, whylen, "line %u: signature is not 128 lowercase hex digits", l->lineno);
		r = ERR_MALFORMED;
		goto out;
	}
	if (l->pos != len) {
		dirdoc_say(why, whylen, "data after the signature line");
		r = ERR_TRAILING;
		goto out;
	}
	if (id_verify(out->sig, (const uint8_t *)text, body_len, out->id_pk) < 0) {
		dirdoc_say(why, whylen, "bad signature");
		r = ERR_BAD_SIG;
		goto out;
	}
	r = 0;
out:
	free(l);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		if (r == ERR_TRAILING)
			r = ERR_MALFORMED;
	}
	return r;
}

int
dirdoc_descriptor_check_time(const struct dirdoc_relay *r, uint64_t now, uint64_t max_age,
			     char *why, size_t whylen)
{
	if (r->published + max_age < r->published || r->published + max_age < now) {
		dirdoc_say(why, whylen, "published time %llu is stale (more than %llu s before %llu)",
		    (unsigned long long)r->published, (unsigned long long)max_age,
		    (unsigned long long)now);
		return ERR_STALE;
	}
	if (r->published > now + DIRDOC_MAX_SKEW) {
		dirdoc_say(why, whylen, "published time %llu is in the future (now %llu)",
		    (unsigned long long)r->published, (unsigned long long)now);
		return ERR_FUTURE;
	}
	return 0;
}

