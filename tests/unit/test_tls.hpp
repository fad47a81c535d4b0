#pragma once

// Test support: a self-signed certificate for "localhost", made with
// OpenSSL's C API, and the TLS contexts and files that tests build from it.

#include "temp_dir.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/test/unit_test.hpp>
#include <cstddef>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string>

namespace trestle::test {

/// A certificate and its key, as PEM.
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

namespace detail {

/// What a memory BIO holds; frees the BIO.
inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

/// Adds the X.509 v3 extension `nid` with `value` (OpenSSL's config syntax).
inline void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  BOOST_REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

} // namespace detail

/// A new self-signed certificate for "localhost" (its own CA) with a P-256
/// key, valid from an hour ago for a day.
inline TestCertificate make_certificate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BOOST_REQUIRE(key != nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  detail::add_extension(cert, NID_subject_alt_name, "DNS:localhost");
  detail::add_extension(cert, NID_basic_constraints, "critical,CA:TRUE");
  BOOST_REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  X509_free(cert);
  EVP_PKEY_free(key);
  return {detail::bio_text(cert_bio), detail::bio_text(key_bio)};
}

/// A server context that presents `certificate`.
inline boost::asio::ssl::context server_context(const TestCertificate& certificate) {
  namespace ssl = boost::asio::ssl;
  ssl::context context(ssl::context::tls_server);
  context.use_certificate(boost::asio::buffer(certificate.cert_pem), ssl::context::pem);
  context.use_private_key(boost::asio::buffer(certificate.key_pem), ssl::context::pem);
  return context;
}

/// A client context that trusts exactly `certificate`.
inline boost::asio::ssl::context client_context(const TestCertificate& certificate) {
  namespace ssl = boost::asio::ssl;
  ssl::context context(ssl::context::tls_client);
  context.add_certificate_authority(boost::asio::buffer(certificate.cert_pem));
  context.set_verify_mode(ssl::verify_peer);
  return context;
}

/// A test's TLS setup: a new certificate, a server context presenting it,
/// and the certificate and key as PEM files in a temporary directory. The
/// certificate is its own CA, so `cert_file` is also the CA file to trust.
struct TlsFixture {
  TlsFixture()
      : certificate(make_certificate()), server(server_context(certificate)),
        cert_file(files.write("cert.pem", certificate.cert_pem)),
        key_file(files.write("key.pem", certificate.key_pem)) {}

  TestCertificate certificate;
  boost::asio::ssl::context server;
  TempDir files{"trestle-tls-test"};
  std::string cert_file;
  std::string key_file;
};

} // namespace trestle::test
