#include "common/config/properties.h"

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "common/config/text_util.h"

namespace ensemble::config {
namespace {

// Whitespace as java.util.Properties sees it (not \r or \n: those end lines).
bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

std::string_view SkipLeadingBlanks(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsBlank(s[i])) ++i;
  return s.substr(i);
}

bool EndsWithOddBackslashes(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && s[s.size() - 1 - n] == '\\') ++n;
  return n % 2 == 1;
}

// Reads physical lines, tracking their 1-based numbers.
class LineSource {
 public:
  explicit LineSource(std::string_view text) : text_(text) {}

  bool Next(std::string_view* line) {
    if (pos_ >= text_.size()) return false;
    size_t end = pos_;
    while (end < text_.size() && text_[end] != '\n' && text_[end] != '\r') ++end;
    *line = text_.substr(pos_, end - pos_);
    pos_ = end;
    if (pos_ < text_.size()) {
      if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
      ++pos_;
    }
    ++number_;
    return true;
  }

  int number() const { return number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int number_ = 0;
};

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::optional<uint32_t> ParseHex4(std::string_view s) {
  if (s.size() < 4) return std::nullopt;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return v;
}

// Properties.loadConvert: decodes escapes. Returns nullopt on a malformed \u escape
// (Java throws IllegalArgumentException("Malformed \\uxxxx encoding.")).
std::optional<std::string> Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i++];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i >= s.size()) break;  // A lone trailing backslash escapes nothing.
    c = s[i++];
    switch (c) {
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        std::optional<uint32_t> unit = ParseHex4(s.substr(i));
        if (!unit) return std::nullopt;
        i += 4;
        uint32_t cp = *unit;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A high surrogate must be followed by an escaped low surrogate.
          if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return std::nullopt;
          std::optional<uint32_t> low = ParseHex4(s.substr(i + 2));
          if (!low || *low < 0xDC00 || *low > 0xDFFF) return std::nullopt;
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return std::nullopt;
        }
        AppendUtf8(cp, &out);
        break;
      }
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<PropertyLine>> ReadProperties(std::string_view text,
                                                         std::string_view source_name) {
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());

  std::vector<PropertyLine> out;
  LineSource lines(text);
  std::string_view physical;
  while (lines.Next(&physical)) {
    const int start_line = lines.number();
    std::string_view first = SkipLeadingBlanks(physical);
    if (first.empty() || first[0] == '#' || first[0] == '!') continue;

    // Join continuation lines. A comment marker on a continuation line is data.
    std::string logical(first);
    while (EndsWithOddBackslashes(logical)) {
      logical.pop_back();
      std::string_view next;
      if (!lines.Next(&next)) break;
      logical.append(SkipLeadingBlanks(next));
    }

    // Properties.load0: find the end of the key and the start of the value.
    const size_t n = logical.size();
    size_t key_len = 0;
    size_t value_start = n;
    bool has_separator = false;
    bool preceding_backslash = false;
    while (key_len < n) {
      const char c = logical[key_len];
      if ((c == '=' || c == ':') && !preceding_backslash) {
        value_start = key_len + 1;
        has_separator = true;
        break;
      }
      if (IsBlank(c) && !preceding_backslash) {
        value_start = key_len + 1;
        break;
      }
      preceding_backslash = (c == '\\') ? !preceding_backslash : false;
      ++key_len;
    }
    while (value_start < n) {
      const char c = logical[value_start];
      if (!IsBlank(c)) {
        if (!has_separator && (c == '=' || c == ':')) {
          has_separator = true;
        } else {
          break;
        }
      }
      ++value_start;
    }

    std::optional<std::string> key = Unescape(std::string_view(logical).substr(0, key_len));
    std::optional<std::string> value = Unescape(std::string_view(logical).substr(value_start));
    if (!key || !value) {
      return absl::InvalidArgumentError(
          internal::Cat(source_name, ":", start_line, ": malformed \\uXXXX escape"));
    }
    PropertyLine entry;
    entry.key = std::string(internal::Trim(*key));
    entry.value = std::string(internal::Trim(*value));
    entry.line = start_line;
    if (entry.key.empty()) {
      return absl::InvalidArgumentError(
          internal::Cat(source_name, ":", start_line, ": missing key before the value"));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

namespace {

void AppendEscapedControl(char c, std::string* out) {
  switch (c) {
    case '\\':
      out->append("\\\\");
      break;
    case '\t':
      out->append("\\t");
      break;
    case '\n':
      out->append("\\n");
      break;
    case '\r':
      out->append("\\r");
      break;
    case '\f':
      out->append("\\f");
      break;
    default:
      out->push_back(c);
  }
}

}  // namespace

std::string EscapePropertyKey(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == ' ' || c == '=' || c == ':' || c == '#' || c == '!') {
      out.push_back('\\');
      out.push_back(c);
    } else {
      AppendEscapedControl(c, &out);
    }
  }
  return out;
}

std::string EscapePropertyValue(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (i == 0 && value[i] == ' ') {
      out.append("\\ ");
    } else {
      AppendEscapedControl(value[i], &out);
    }
  }
  return out;
}

}  // namespace ensemble::config
