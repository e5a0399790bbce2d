// numpy's array printing with its default options (numpy/core/arrayprint.py,
// numpy 1.24: precision 8, floatmode 'maxprec', suppress False, linewidth 75,
// threshold 1000, edgeitems 3): one element format for the whole array,
// chosen from the values printed, then the nested brackets, wrapped at the
// line width. tests/test_tensor_print.cpp compares with numpy's own output.
#include <graphjit/runtime/tensor_print.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <functional>
#include <ostream>

namespace graphjit {

namespace {

constexpr std::int64_t kThreshold = 1000;  // arrays with more elements print only the ends of long axes
constexpr std::int64_t kEdgeItems = 3;
constexpr std::size_t kLineWidth = 75;
constexpr int kPrecision = 8;  // at most this many digits after the point

bool summarizes(const Tensor& t) { return t.size() > kThreshold; }
bool cut(const Tensor& t, int axis) { return summarizes(t) && t.shape(axis) > 2 * kEdgeItems; }

// The positions printed along an axis, in order: all, or the first and last
// kEdgeItems when the array is summarized.
std::vector<std::int64_t> printed(const Tensor& t, int axis) {
  std::vector<std::int64_t> pos;
  const std::int64_t n = t.shape(axis);
  for (std::int64_t i = 0; i < n; ++i) {
    if (cut(t, axis) && i == kEdgeItems) i = n - kEdgeItems;
    pos.push_back(i);
  }
  return pos;
}

const char* element(const Tensor& t, std::int64_t offset) {
  return static_cast<const char*>(t.raw_data()) + offset * static_cast<std::int64_t>(dtype_size(t.dtype()));
}

double as_double(const char* p, DType t) {
  return visit_dtype(t, [p](auto tag) { return static_cast<double>(*reinterpret_cast<const decltype(tag)*>(p)); });
}

// Every printed element's value, in order (numpy's format is chosen from
// these only).
std::vector<double> printed_values(const Tensor& t) {
  std::vector<double> values;
  std::function<void(int, std::int64_t)> walk = [&](int axis, std::int64_t offset) {
    if (axis == t.ndim()) return values.push_back(as_double(element(t, offset), t.dtype()));
    for (std::int64_t i : printed(t, axis)) walk(axis + 1, offset + i * t.strides()[axis]);
  };
  walk(0, 0);
  return values;
}

// A number as numpy's Dragon4 prints it: digits of the shortest decimal that
// reads back as the same float32/float64, cut to kPrecision digits after the
// point (rounding the exact value) when longer.
struct Decimal {
  std::string whole;  // with its sign: "-12"; scientific: one digit
  std::string fraction;
  int exponent = 0;  // scientific only
};

Decimal parse(const char* begin, const char* end, bool scientific) {
  Decimal d;
  const std::string s(begin, end);
  const auto e = s.find('e');
  const std::string mantissa = s.substr(0, e);
  const auto point = mantissa.find('.');
  d.whole = mantissa.substr(0, point);
  if (point != std::string::npos) d.fraction = mantissa.substr(point + 1);
  while (!d.fraction.empty() && d.fraction.back() == '0') d.fraction.pop_back();
  if (scientific) d.exponent = std::stoi(s.substr(e + 1));
  return d;
}

Decimal dragon4(double v, bool f32, bool scientific) {
  char buf[400];
  const auto format = scientific ? std::chars_format::scientific : std::chars_format::fixed;
  auto r = f32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v), format)
               : std::to_chars(buf, buf + sizeof buf, v, format);
  Decimal d = parse(buf, r.ptr, scientific);
  if (static_cast<int>(d.fraction.size()) > kPrecision) {
    r = std::to_chars(buf, buf + sizeof buf, v, format, kPrecision);
    d = parse(buf, r.ptr, scientific);
  }
  return d;
}

std::string exponent_text(int exponent, std::size_t digits) {
  const std::string e = std::to_string(std::abs(exponent));
  return (exponent < 0 ? "-" : "+") + std::string(digits > e.size() ? digits - e.size() : 0, '0') + e;
}

std::string pad_left(const std::string& s, std::size_t width) {
  return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
}

// numpy's FloatingFormat: positional, or scientific when the values span too
// much; every element padded to one width.
class FloatFormat {
 public:
  FloatFormat(const std::vector<double>& values, bool f32) : f32_(f32) {
    std::vector<double> finite;
    for (double v : values)
      if (std::isfinite(v)) finite.push_back(v);
    double max = 0, min = INFINITY;
    for (double v : finite)
      if (v != 0) max = std::max(max, std::abs(v)), min = std::min(min, std::abs(v));
    exp_ = max > 0 && (max >= 1e8 || min < 1e-4 || max / min > 1000.);
    for (double v : finite) {
      const Decimal d = dragon4(v, f32_, exp_);
      pad_left_ = std::max(pad_left_, d.whole.size());
      frac_ = std::max(frac_, d.fraction.size());
      if (exp_) exp_digits_ = std::max(exp_digits_, exponent_text(d.exponent, 2).size() - 1);
    }
    pad_right_ = exp_ ? exp_digits_ + 2 + frac_ : frac_;
    if (finite.size() != values.size()) {
      const bool neginf = std::any_of(values.begin(), values.end(), [](double v) { return std::isinf(v) && v < 0; });
      // Room for "nan" and "inf" ("-inf" when one is negative) beside the point and fraction.
      const std::size_t offset = pad_right_ + 1, widest = neginf ? 4 : 3;
      pad_left_ = std::max(pad_left_, widest > offset ? widest - offset : 0);
    }
  }

  std::string operator()(double v) const {
    if (!std::isfinite(v))
      return pad_left(std::isnan(v) ? "nan" : v < 0 ? "-inf" : "inf", pad_left_ + pad_right_ + 1);
    const Decimal d = dragon4(v, f32_, exp_);
    if (exp_)
      return pad_left(d.whole, pad_left_) + "." + d.fraction + std::string(frac_ - d.fraction.size(), '0') + "e" +
             exponent_text(d.exponent, exp_digits_);
    return pad_left(d.whole, pad_left_) + "." + d.fraction + std::string(pad_right_ - d.fraction.size(), ' ');
  }

 private:
  bool f32_;
  bool exp_ = false;
  std::size_t pad_left_ = 0, pad_right_ = 0, frac_ = 0, exp_digits_ = 0;
};

// The element format for the whole array: numpy's FloatingFormat,
// IntegerFormat (right-aligned to the longest) or BoolFormat.
std::function<std::string(const char*)> element_format(const Tensor& t) {
  const std::vector<double> values = printed_values(t);
  const DType dtype = t.dtype();
  if (is_float(dtype)) {
    FloatFormat f(values, dtype == DType::float32);
    return [f, dtype](const char* p) { return f(as_double(p, dtype)); };
  }
  if (dtype == DType::bool_) {
    const bool padded = t.ndim() > 0;
    return [padded](const char* p) { return *reinterpret_cast<const bool*>(p) ? (padded ? " True" : "True") : "False"; };
  }
  std::size_t width = 0;
  for (double v : values) width = std::max(width, std::to_string(static_cast<std::int64_t>(v)).size());
  return [width, dtype](const char* p) {
    return pad_left(std::to_string(static_cast<std::int64_t>(as_double(p, dtype))), width);
  };
}

std::string rstrip(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// numpy's _formatArray: nested brackets, rows of the last axis wrapped at
// the line width, blank lines between blocks of higher axes.
class Layout {
 public:
  Layout(const Tensor& t, std::string separator) : t_(t), sep_(std::move(separator)), cell_(element_format(t)) {}

  std::string run(const std::string& next_line_prefix, std::size_t line_width) {
    return recurse(0, 0, next_line_prefix, line_width);
  }

 private:
  // numpy's _extendLine: a word starts a new line when it would pass the
  // width, unless the line holds nothing but the indent.
  void extend(std::string& s, std::string& line, const std::string& word, std::size_t width,
              const std::string& indent) const {
    if (line.size() + word.size() > width && line.size() > indent.size()) {
      s += rstrip(line) + "\n";
      line = indent;
    }
    line += word;
  }

  std::string recurse(int axis, std::int64_t offset, const std::string& indent, std::size_t width) {
    if (axis == t_.ndim()) return cell_(element(t_, offset));
    const std::string next_indent = indent + " ";
    const std::size_t next_width = width - 1;  // room for the ']'
    auto item = [&](std::int64_t i) { return recurse(axis + 1, offset + i * t_.strides()[axis], next_indent, next_width); };
    std::string s;
    const std::vector<std::int64_t> positions = printed(t_, axis);
    if (axis == t_.ndim() - 1) {
      const std::size_t elem_width = width - std::max<std::size_t>(rstrip(sep_).size(), 1);
      std::string line = indent;
      for (std::size_t k = 0; k < positions.size(); ++k) {
        if (k > 0 && positions[k] != positions[k - 1] + 1) {
          extend(s, line, "...", elem_width, indent);
          line += sep_;
        }
        extend(s, line, item(positions[k]), elem_width, indent);
        if (k + 1 < positions.size()) line += sep_;
      }
      return "[" + (s + line).substr(indent.size()) + "]";
    }
    const std::string line_sep = rstrip(sep_) + std::string(static_cast<std::size_t>(t_.ndim() - axis - 1), '\n');
    for (std::size_t k = 0; k < positions.size(); ++k) {
      if (k > 0 && positions[k] != positions[k - 1] + 1) s += indent + "..." + line_sep;
      s += indent + item(positions[k]) + (k + 1 < positions.size() ? line_sep : "");
    }
    return "[" + s.substr(indent.size()) + "]";
  }

  const Tensor& t_;
  std::string sep_;
  std::function<std::string(const char*)> cell_;
};

// The str of a numpy scalar (what str() of a 0-d array prints): Python's
// repr of a float (positional from 1e-4 to 1e16, with at least one digit
// after the point; otherwise "1e+20"), the integer, True or False.
std::string scalar_str(const Tensor& t) {
  const char* p = element(t, 0);
  const DType dtype = t.dtype();
  if (dtype == DType::bool_) return *reinterpret_cast<const bool*>(p) ? "True" : "False";
  const double v = as_double(p, dtype);
  if (!is_float(dtype)) return std::to_string(static_cast<std::int64_t>(v));
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[400];
  const bool f32 = dtype == DType::float32;
  const bool positional = v == 0 || (std::abs(v) >= 1e-4 && std::abs(v) < 1e16);
  const auto format = positional ? std::chars_format::fixed : std::chars_format::scientific;
  auto r = f32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v), format)
               : std::to_chars(buf, buf + sizeof buf, v, format);
  const Decimal d = parse(buf, r.ptr, !positional);
  if (positional) return d.whole + "." + (d.fraction.empty() ? "0" : d.fraction);
  return d.whole + (d.fraction.empty() ? "" : "." + d.fraction) + "e" + exponent_text(d.exponent, 2);
}

// numpy leaves out the dtype of float64, int64 and bool arrays in repr.
bool dtype_implied(DType t) { return t == DType::float64 || t == DType::int64 || t == DType::bool_; }

}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "Tensor(undefined)";
  if (size() == 0) return "[]";
  if (ndim() == 0) return scalar_str(*this);
  return Layout(*this, " ").run(" ", kLineWidth);
}

std::string repr(const Tensor& t) {
  if (!t.defined()) return "Tensor(undefined)";
  const std::string prefix = "array(";
  const std::string dtype = std::string("dtype=") + dtype_name(t.dtype()) + ")";
  if (t.size() == 0)
    return prefix + "[], " + (t.ndim() == 1 ? "" : "shape=" + shape_str(t.shape()) + ", ") + dtype;
  const bool implied = dtype_implied(t.dtype());
  const std::string body = Layout(t, ", ").run(std::string(prefix.size() + 1, ' '), kLineWidth - 1);
  if (implied) return prefix + body + ")";
  const std::string text = prefix + body + ",";
  const std::size_t last_line = text.size() - (text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  const std::string spacer = last_line + dtype.size() + 1 > kLineWidth ? "\n" + std::string(prefix.size(), ' ') : " ";
  return text + spacer + dtype;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

}  // namespace graphjit
