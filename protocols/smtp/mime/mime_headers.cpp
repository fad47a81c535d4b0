#include "mime_headers.hpp"

#include "address_text.hpp"
#include "gmime_workarounds.hpp"
#include "mime_charset.hpp"
#include "mime_dsn.hpp"

#include <algorithm>
#include <optional>

namespace trestle::smtp {

namespace {

constexpr std::size_t max_name_bytes = 200;
constexpr std::size_t max_address_bytes = 320;
constexpr std::size_t max_subject_bytes = 1000;
constexpr std::size_t max_filename_bytes = 255;

/// A header's text with RFC 2047 words decoded (GMime's decoder, after
/// merge_base64_words()), or empty when the header is absent.
std::string decoded_header(GMimeObject* object, GMimeParserOptions* options, const char* name) {
  const auto raw = gmime::raw_header(object, name);
  if (!raw) {
    return {};
  }
  const std::string merged = gmime::merge_base64_words(*raw);
  return gmime::take_string(g_mime_utils_header_decode_text(options, merged.c_str()));
}

std::vector<std::string> message_ids(GMimeObject* object, const char* name) {
  const auto raw = gmime::raw_header(object, name);
  return raw ? message_ids_in(*raw) : std::vector<std::string>();
}

void read_from(GMimeMessage* message, GMimeParserOptions* options, ParsedMail& mail) {
  const auto raw = gmime::raw_header(GMIME_OBJECT(message), "From");
  if (!raw) {
    return;
  }
  const gmime::Ref<InternetAddressList> from(
      internet_address_list_parse(options, gmime::merge_base64_words(*raw).c_str()));
  InternetAddress* address = from && internet_address_list_length(from.get()) > 0
                                 ? internet_address_list_get_address(from.get(), 0)
                                 : nullptr;
  // A group (`Team: bob@example.com;`) stands for its first member.
  if (address != nullptr && INTERNET_ADDRESS_IS_GROUP(address)) {
    InternetAddressList* members =
        internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address));
    address = members != nullptr && internet_address_list_length(members) > 0
                  ? internet_address_list_get_address(members, 0)
                  : nullptr;
  }
  if (address == nullptr || !INTERNET_ADDRESS_IS_MAILBOX(address)) {
    return;
  }
  mail.from_address = one_line(
      gmime::to_string(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address))),
      max_address_bytes);
  mail.from_name = one_line(gmime::to_string(internet_address_get_name(address)), max_name_bytes);
}

/// The loop-safety flags (RFC 3834 section 5, RFC 2369, RFC 2919).
void read_flags(GMimeMessage* message, ParsedMail& mail) {
  GMimeObject* object = GMIME_OBJECT(message);
  const auto token = [object](const char* name) -> std::optional<std::string> {
    const char* value = g_mime_object_get_header(object, name);
    if (value == nullptr) {
      return std::nullopt;
    }
    std::string_view text = protocols::trim_blanks(value);
    text = text.substr(0, text.find_first_of(" \t;("));
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), protocols::ascii_lower);
    return out;
  };
  const auto auto_submitted = token("Auto-Submitted");
  mail.auto_submitted = auto_submitted.has_value() && *auto_submitted != "no";
  const auto precedence = token("Precedence");
  mail.list_mail =
      token("List-Id") || token("List-Unsubscribe") || token("List-Post") ||
      (precedence && (*precedence == "bulk" || *precedence == "list" || *precedence == "junk"));
}

} // namespace

void read_mail_headers(GMimeMessage* message, GMimeParserOptions* options, ParsedMail& mail) {
  read_from(message, options, mail);
  mail.subject = decoded_subject(GMIME_OBJECT(message), options);
  GMimeObject* object = GMIME_OBJECT(message);
  const auto own = message_ids(object, "Message-ID");
  mail.message_id = own.empty() ? "" : own.front();
  const auto parents = message_ids(object, "In-Reply-To");
  mail.in_reply_to = parents.empty() ? "" : parents.front();
  mail.references = message_ids(object, "References");
  read_flags(message, mail);
}

std::string decoded_subject(GMimeObject* object, GMimeParserOptions* options) {
  return one_line(decoded_header(object, options, "Subject"), max_subject_bytes);
}

std::string part_filename(GMimeObject* part, GMimeParserOptions* options) {
  if (const auto raw = gmime::raw_header(part, "Content-Disposition")) {
    const gmime::Ref<GMimeContentDisposition> disposition(
        g_mime_content_disposition_parse(options, gmime::merge_base64_words(*raw).c_str()));
    const char* name = disposition
                           ? g_mime_content_disposition_get_parameter(disposition.get(), "filename")
                           : nullptr;
    if (name != nullptr && *name != '\0') {
      return one_line(name, max_filename_bytes);
    }
  }
  if (const auto raw = gmime::raw_header(part, "Content-Type")) {
    const gmime::Ref<GMimeContentType> type(
        g_mime_content_type_parse(options, gmime::merge_base64_words(*raw).c_str()));
    return one_line(
        gmime::to_string(type ? g_mime_content_type_get_parameter(type.get(), "name") : nullptr),
        max_filename_bytes);
  }
  return {};
}

} // namespace trestle::smtp
