#include "mime_dsn.hpp"

#include "address_text.hpp"
#include "mime_charset.hpp"
#include "mime_compose.hpp"

#include <algorithm>
#include <vector>

namespace trestle::smtp {

namespace {

/// Failed recipients kept from one report; a real bounce names a few.
constexpr std::size_t max_recipients = 100;
constexpr std::size_t max_field_bytes = 1000;

struct Field {
  /// Lowercase.
  std::string name;
  /// Unfolded, on one line.
  std::string value;
};

using FieldBlock = std::vector<Field>;

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), protocols::ascii_lower);
  return out;
}

/// Header-style fields in blocks separated by blank lines; a line that
/// starts with a blank continues the field before it (RFC 5322 section
/// 2.2.3), and lines that are not fields are skipped.
std::vector<FieldBlock> field_blocks(std::string_view text) {
  std::vector<FieldBlock> blocks(1);
  std::size_t start = 0;
  while (start < text.size()) {
    std::string_view line = protocols::next_line(text, start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (protocols::trim_blanks(line).empty()) {
      if (!blocks.back().empty()) {
        blocks.emplace_back();
      }
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (!blocks.back().empty() && blocks.back().back().value.size() < max_field_bytes) {
        blocks.back().back().value += ' ';
        blocks.back().back().value += protocols::trim_blanks(line);
      }
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      continue;
    }
    blocks.back().push_back(Field{lowercase(protocols::trim_blanks(line.substr(0, colon))),
                                  std::string(protocols::trim_blanks(line.substr(colon + 1)))});
  }
  return blocks;
}

const std::string* find(const FieldBlock& block, std::string_view name) {
  for (const auto& field : block) {
    if (field.name == name) {
      return &field.value;
    }
  }
  return nullptr;
}

/// `rfc822; bob@example.com` without its type, `smtp; 550 ...` likewise;
/// an address also loses its angle brackets.
std::string without_type(std::string_view value) {
  if (const auto semicolon = value.find(';'); semicolon != std::string_view::npos) {
    value = value.substr(semicolon + 1);
  }
  value = protocols::trim_blanks(value);
  if (value.size() >= 2 && value.front() == '<' && value.back() == '>') {
    value = value.substr(1, value.size() - 2);
  }
  return one_line(value, max_field_bytes);
}

} // namespace

void read_delivery_status(std::string_view content, DeliveryReport& report) {
  for (const auto& block : field_blocks(content)) {
    const std::string* action = find(block, "action");
    const std::string* recipient = find(block, "final-recipient");
    if (recipient == nullptr) {
      recipient = find(block, "original-recipient");
    }
    if (action == nullptr || recipient == nullptr ||
        !lowercase(protocols::trim_blanks(*action)).starts_with("failed")) {
      continue;
    }
    if (report.failed_recipients.size() >= max_recipients) {
      break;
    }
    if (report.failed_recipients.empty()) {
      if (const std::string* status = find(block, "status")) {
        report.status = without_type(*status);
      }
      if (const std::string* diagnostic = find(block, "diagnostic-code")) {
        report.diagnostic = without_type(*diagnostic);
      }
    }
    report.failed_recipients.push_back(without_type(*recipient));
  }
}

std::string message_id_in_headers(std::string_view headers) {
  const auto blocks = field_blocks(headers);
  const std::string* value = find(blocks.front(), "message-id");
  const auto ids = value != nullptr ? message_ids_in(*value) : std::vector<std::string>();
  return ids.empty() ? std::string() : ids.front();
}

std::vector<std::string> message_ids_in(std::string_view value) {
  std::vector<std::string> ids;
  if (value.find('<') == std::string_view::npos) {
    const std::string_view id =
        protocols::trim_blanks(value.substr(0, value.find_last_not_of("\r\n") + 1));
    if (is_valid_message_id(id)) {
      ids.emplace_back(id);
    }
    return ids;
  }
  std::size_t open = 0;
  while ((open = value.find('<', open)) != std::string_view::npos) {
    const auto close = value.find('>', open);
    if (close == std::string_view::npos) {
      break;
    }
    const std::string_view id = value.substr(open + 1, close - open - 1);
    if (is_valid_message_id(id)) {
      ids.emplace_back(id);
    }
    open = close + 1;
  }
  return ids;
}

} // namespace trestle::smtp
