#include "engine/python/src/status_error.h"

namespace nb = nanobind;

namespace intvit::python {

void bind_errors(nb::module_& m) {
  // The exception classes live in Python (intvit/_errors.py) so that they can derive from both
  // intvit.Error and the matching built-in (ValueError, FileNotFoundError, MemoryError, ...).
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const StatusError& e) {
      nb::object errors = nb::module_::import_("intvit._errors");
      nb::object exc = errors.attr("from_status")(static_cast<int>(e.status()), e.what(), e.missing_path());
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
    }
  });
  m.def("status_string", [](int status) { return std::string(intvit_status_string(static_cast<intvit_status>(status))); },
        nb::arg("status"), "The C API's short English name of a status value.");
  m.def("version", [] { return std::string(intvit_version_string()); }, "The C library's version, MAJOR.MINOR.PATCH.");
}

}  // namespace intvit::python
