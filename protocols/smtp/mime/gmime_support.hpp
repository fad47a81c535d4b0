#pragma once

// GMime plumbing that the MIME compose and parse code share: one-time
// initialisation, owning handles for GObject references and g_malloc'd
// strings, and byte copies out of GMime streams. Private to smtp_lib: the
// public headers do not include GMime.

#include <gmime/gmime.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace trestle::smtp::gmime {

/// Runs g_mime_init() once per process (it is not reentrant); every entry
/// point that touches GMime calls this first. GMime is never shut down.
void ensure_initialized();

/// Drops one GObject reference.
struct ObjectUnref {
  void operator()(gpointer object) const {
    if (object != nullptr) {
      g_object_unref(object);
    }
  }
};

/// Owns one reference to a GObject (GMimeMessage, GMimeStream, ...).
template <typename T> using Ref = std::unique_ptr<T, ObjectUnref>;

/// Frees a string GMime or GLib allocated with g_malloc.
struct CharsFree {
  void operator()(char* text) const { g_free(text); }
};

/// Owns a g_malloc'd string.
using Chars = std::unique_ptr<char, CharsFree>;

/// Frees GMimeParserOptions.
struct ParserOptionsFree {
  void operator()(GMimeParserOptions* options) const { g_mime_parser_options_free(options); }
};

/// Owns GMimeParserOptions. Objects parsed with them may keep a pointer to
/// them, so they must outlive those objects.
using ParserOptions = std::unique_ptr<GMimeParserOptions, ParserOptionsFree>;

/// Lenient parser options: loose RFC compliance, and 8-bit header text
/// read as UTF-8 or else windows-1252.
ParserOptions lenient_parser_options();

/// `text` as a string; empty for null.
inline std::string to_string(const char* text) {
  return text != nullptr ? std::string(text) : std::string();
}

/// Takes ownership of a g_malloc'd string and returns a copy of it.
inline std::string take_string(char* text) {
  const Chars owned(text);
  return to_string(owned.get());
}

/// A memory stream holding a copy of `bytes`.
Ref<GMimeStream> memory_stream(std::string_view bytes);

/// Everything left in `stream` from its start.
std::string read_all(GMimeStream* stream);

/// A part's content as it stands in the message (transfer encoding not undone).
std::string encoded_content(GMimePart* part);

/// A part's content with its transfer encoding (base64, quoted-printable,
/// uuencode) undone; charsets are left alone.
std::string decoded_content(GMimePart* part);

/// The value of the first header `name` of `object` as it stands in the
/// message (folding kept, nothing decoded), or nullopt when there is none.
std::optional<std::string> raw_header(GMimeObject* object, const char* name);

} // namespace trestle::smtp::gmime
