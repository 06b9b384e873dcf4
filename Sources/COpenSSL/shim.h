// The OpenSSL 3 headers BanjieTLS uses, plus static inline wrappers for the function-like
// macros Swift cannot import (SSL_CTX_set_mode, SSL_set_tlsext_host_name, EVP_EC_gen, ...).
// Keep this small: every wrapper is one macro or one tiny helper.
#ifndef BANJIE_COPENSSL_SHIM_H
#define BANJIE_COPENSSL_SHIM_H

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

static inline long banjie_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
  return SSL_CTX_set_min_proto_version(ctx, version);
}

static inline long banjie_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
  return SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long banjie_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
  return SSL_CTX_set_mode(ctx, mode);
}

static inline long banjie_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
  return SSL_CTX_set_session_cache_mode(ctx, mode);
}

/// SSL_OP_* are `(uint64_t)1 << n` expressions, which Swift does not import.
static inline uint64_t banjie_SSL_CTX_set_hardening_options(SSL_CTX *ctx) {
  return SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                      SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
}

static inline long banjie_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
  return SSL_set_tlsext_host_name(ssl, name);
}

static inline int banjie_SSL_CTX_get_ex_new_index(void) {
  return SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static inline BUF_MEM *banjie_BIO_get_mem_ptr(BIO *bio) {
  BUF_MEM *mem = NULL;
  BIO_get_mem_ptr(bio, &mem);
  return mem;
}

static inline void banjie_OPENSSL_free(void *pointer) { OPENSSL_free(pointer); }

/// EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen.
static inline EVP_PKEY *banjie_EVP_EC_gen_P256(void) { return EVP_EC_gen("P-256"); }

/// Adds one X.509v3 extension given in openssl.cnf syntax ("critical,CA:TRUE", "hash", ...).
/// X509V3_CTX is filled by macros and plain field stores, so this lives on the C side.
static inline int banjie_X509_add_ext_conf(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
  if (ext == NULL) {
    return 0;
  }
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

#endif
