#include "gmime_support.hpp"

#include <mutex>

namespace trestle::smtp::gmime {

void ensure_initialized() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

ParserOptions lenient_parser_options() {
  ParserOptions options(g_mime_parser_options_new());
  g_mime_parser_options_set_address_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_rfc2047_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  const char* charsets[] = {"UTF-8", "windows-1252", nullptr};
  g_mime_parser_options_set_fallback_charsets(options.get(), charsets);
  return options;
}

Ref<GMimeStream> memory_stream(std::string_view bytes) {
  return Ref<GMimeStream>(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
}

std::string read_all(GMimeStream* stream) {
  std::string out;
  if (stream == nullptr || g_mime_stream_reset(stream) != 0) {
    return out;
  }
  char buffer[4096];
  for (;;) {
    const auto got = g_mime_stream_read(stream, buffer, sizeof buffer);
    if (got <= 0) {
      break;
    }
    out.append(buffer, static_cast<std::size_t>(got));
  }
  return out;
}

std::string encoded_content(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) {
    return {};
  }
  return read_all(g_mime_data_wrapper_get_stream(content));
}

std::string decoded_content(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) {
    return {};
  }
  const Ref<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, out.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  if (bytes == nullptr || bytes->len == 0) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

std::optional<std::string> raw_header(GMimeObject* object, const char* name) {
  GMimeHeaderList* headers = g_mime_object_get_header_list(object);
  GMimeHeader* header = headers != nullptr ? g_mime_header_list_get_header(headers, name) : nullptr;
  const char* raw = header != nullptr ? g_mime_header_get_raw_value(header) : nullptr;
  if (raw == nullptr) {
    return std::nullopt;
  }
  return std::string(raw);
}

} // namespace trestle::smtp::gmime
