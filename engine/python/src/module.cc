// The compiled part of the intvit Python package. The documented API is intvit/__init__.py.
#include <nanobind/nanobind.h>

#include "engine/python/src/status_error.h"

namespace nb = nanobind;

namespace intvit::python {
void bind_model(nb::module_& m);
void bind_quantize(nb::module_& m);
}  // namespace intvit::python

NB_MODULE(_intvit, m) {
  m.doc() = "intvit's C API bound with nanobind (use the intvit package, not this module).";
  intvit::python::bind_errors(m);
  intvit::python::bind_model(m);
  intvit::python::bind_quantize(m);
}
