// intvit._intvit.quantize: the `intvit quantize` pipeline (engine/quantize_model.h) with the
// CLI's options and defaults; the GIL is released except while a Python progress callback runs.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/c_api/c_api_internal.h"
#include "engine/cli/progress.h"
#include "engine/python/src/status_error.h"
#include "engine/quantize_model.h"
#include "kernels/gelu/gelu.h"
#include "kernels/softmax/softmax.h"

namespace nb = nanobind;

namespace intvit::python {
namespace {

// Runs body, turning an intvit::Error (or any C++ failure) into a StatusError as the C API would
// report it; a Python exception raised by a callback passes through unchanged.
template <class Body>
auto translated(Body&& body) {
  try {
    return body();
  } catch (const nb::python_error&) {
    throw;
  } catch (const StatusError&) {
    throw;
  } catch (...) {
    std::string message;
    const intvit_status status = capi::status_of_current_exception("intvit.quantize", capi::InputKind::kModel, message);
    throw StatusError(status, message);
  }
}

QuantizeModelOptions parse_options(const std::string& fp32_dir, const std::string& calib, const std::string& out_dir,
                                   int64_t calib_count, const std::string& observer, const std::string& softmax,
                                   int64_t attn_bits, bool log2_renorm, const std::string& gelu,
                                   const std::string& wide, const std::vector<int>& wide_list, bool bias_correction,
                                   bool ln_reparam) {
  QuantizeModelOptions o;
  o.fp32_model = fp32_dir;
  o.calib = calib;
  o.output = out_dir;
  if (calib_count < 1 || calib_count > 100000) {
    invalid_argument("calib_count must be in [1, 100000], got " + std::to_string(calib_count));
  }
  o.calib_count = static_cast<int>(calib_count);
  o.observer = parse_observer_kind(observer);
  o.quantize.softmax = parse_softmax_mode(softmax);
  o.quantize.gelu = parse_gelu_mode(gelu);
  if (attn_bits != 0 && (attn_bits < 4 || attn_bits > 16)) {
    invalid_argument("attn_bits must be 4, 8 or 16, got " + std::to_string(attn_bits));
  }
  o.quantize.attn_bits = attn_bits == 0 ? default_attn_bits(o.quantize.softmax) : static_cast<int>(attn_bits);
  o.quantize.log2_renormalize = log2_renorm;
  if (wide == "auto") {
    o.wide = WideBlocksChoice::kAuto;
  } else if (wide == "search") {
    o.wide = WideBlocksChoice::kSearch;
  } else if (wide == "none") {
    o.wide = WideBlocksChoice::kNone;
  } else if (wide == "list") {
    o.wide = WideBlocksChoice::kList;
    o.wide_blocks = wide_list;
  } else {
    invalid_argument("wide_blocks must be 'auto', 'search', 'none' or a list of block indices, got '" + wide + "'");
  }
  o.bias_correction = bias_correction;
  o.ln_reparam = ln_reparam;
  check_quantize_model_options(o);
  return o;
}

}  // namespace

void bind_quantize(nb::module_& m) {
  m.def(
      "quantize",
      [](const std::string& fp32_dir, const std::string& calib, const std::string& out_dir, int64_t calib_count,
         const std::string& observer, const std::string& softmax, int64_t attn_bits, bool log2_renorm,
         const std::string& gelu, const std::string& wide, const std::vector<int>& wide_list, bool bias_correction,
         bool ln_reparam, nb::object progress, nb::object log) {
        reject_nul(fp32_dir, "fp32_dir");
        reject_nul(calib, "calib");
        reject_nul(out_dir, "out_dir");
        for (const std::string* path : {&fp32_dir, &calib}) {
          std::error_code ec;
          if (!std::filesystem::exists(*path, ec)) {
            throw StatusError(INTVIT_ERROR_IO, "intvit.quantize: no such file or directory: " + *path, true);
          }
        }
        const QuantizeModelOptions o = translated([&] {
          return parse_options(fp32_dir, calib, out_dir, calib_count, observer, softmax, attn_bits, log2_renorm, gelu,
                               wide, wide_list, bias_correction, ln_reparam);
        });
        // progress: None (silent), a bool (True: the CLI's bars on stderr) or a callable(stage,
        // done, total). Anything else is an invalid argument (intvit.quantize checks it first).
        std::map<std::string, std::function<void(int, int)>> bars;
        QuantizeProgress on_progress;
        if (nb::isinstance<nb::bool_>(progress)) {
          if (nb::cast<bool>(progress)) {
            on_progress = [&bars](const std::string& stage, int done, int total) {
              auto it = bars.find(stage);
              if (it == bars.end()) it = bars.emplace(stage, cli::progress_bar(stage)).first;
              it->second(done, total);
            };
          }
        } else if (PyCallable_Check(progress.ptr())) {
          on_progress = [&progress](const std::string& stage, int done, int total) {
            nb::gil_scoped_acquire acquire;
            progress(stage, done, total);
          };
        } else if (!progress.is_none()) {
          invalid_argument("progress must be True, False, None or a callable(stage, done, total)");
        }
        QuantizeLog on_log;
        if (!log.is_none()) {
          on_log = [&log](const std::string& line) {
            nb::gil_scoped_acquire acquire;
            log(line);
          };
        }
        QuantizeModelResult r;
        {
          nb::gil_scoped_release release;
          r = translated([&] { return quantize_model(o, on_progress, on_log); });
        }
        nb::dict out;
        out["model_file"] = r.model_file.string();
        out["calib_images"] = r.calib_images;
        out["skipped"] = r.skipped;
        out["report"] = r.report;
        return out;
      },
      nb::arg("fp32_dir"), nb::arg("calib"), nb::arg("out_dir"), nb::arg("calib_count"), nb::arg("observer"),
      nb::arg("softmax"), nb::arg("attn_bits"), nb::arg("log2_renorm"), nb::arg("gelu"), nb::arg("wide"),
      nb::arg("wide_list"), nb::arg("bias_correction"), nb::arg("ln_reparam"), nb::arg("progress").none(),
      nb::arg("log").none());
}

}  // namespace intvit::python
