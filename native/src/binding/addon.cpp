// The N-API surface: thin. It unwraps and checks arguments (every view must lie inside a live
// buffer), runs the op's shape function, allocates outputs, and calls the backend's kernel. All
// shape rules live in native/src/ops so the native parity runner shares them.
#include <napi.h>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include "tensorforge/ceiling.h"
#include "tensorforge/isa.h"
#include "tensorforge/op.h"
#include "tensorforge/parallel.h"
#include "tensorforge/cuda.h"
#include "tensorforge/pack_cache.h"
#include "tensorforge/host_alloc.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using tf::DType;
using tf::View;

// Bytes taken from the system for tensors: the host allocator's holdings and the CUDA allocator's
// reservation (0 without CUDA). V8 hears about changes in it, so that tensors dropped without
// dispose() are collected when memory grows, on either side.
size_t held_bytes() { return tf::host::held_bytes() + tf::cuda::memory_stats().reserved; }

// Tells V8 how much the holdings changed since `held_before`: it hears about memory taken from (or
// given back to) the system, not about cached buffers handed out again (reporting every reuse made
// it run a full GC every few large ops).
void report_growth(Napi::Env env, size_t held_before) {
  const int64_t delta = static_cast<int64_t>(held_bytes()) - static_cast<int64_t>(held_before);
  if (delta != 0) Napi::MemoryManagement::AdjustExternalMemory(env, delta);
}

// A buffer owned by one JS object: 64-byte aligned host memory (device -1), or memory of CUDA
// device `device` from the caching allocator. dispose() frees it at once; the GC finalizer frees it
// otherwise. read/write/copyFrom move bytes between the host and either kind. Each buffer has an
// id and counts the writes into it (write, copyFrom, an op's output or in-place update), so that
// kernels may keep work derived from it (View::storage_id, version).
std::atomic<uint64_t> next_storage_id{1};

class Storage : public Napi::ObjectWrap<Storage> {
 public:
  // the Storage class of an environment (the main thread and each worker thread load the addon
  // into an environment of their own, so the constructor lives in per-environment data)
  static Napi::Function ctor(Napi::Env env) { return env.GetInstanceData<Napi::FunctionReference>()->Value(); }
  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Storage",
                                   {InstanceMethod("dispose", &Storage::Dispose), InstanceMethod("read", &Storage::Read),
                                    InstanceMethod("write", &Storage::Write), InstanceMethod("copyFrom", &Storage::CopyFrom),
                                    InstanceAccessor("byteLength", &Storage::ByteLength, nullptr),
                                    InstanceAccessor("device", &Storage::Device, nullptr),
                                    InstanceAccessor("disposed", &Storage::Disposed, nullptr)});
    env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(f)));
    return f;
  }
  // Storage(byteLength, zero = true, device = -1)
  explicit Storage(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Storage>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "Storage: byte length must be a number");
    double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 0) || n != std::floor(n) || n > 9007199254740991.0)
      throw Napi::RangeError::New(env, "Storage: byte length must be a non-negative integer, got " + std::to_string(n));
    bytes_ = static_cast<size_t>(n);
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      if (!info[2].IsNumber()) throw Napi::TypeError::New(env, "Storage: device must be a number (-1: host)");
      double d = info[2].As<Napi::Number>().DoubleValue();
      if (!(d >= -1 && d < 1024) || d != std::floor(d)) throw Napi::RangeError::New(env, "Storage: device must be -1 (host) or a CUDA device index");
      device_ = static_cast<int>(d);
    }
    // op outputs are written whole by their kernel; everything else starts as zeros
    const bool zero = info.Length() < 2 || info[1].ToBoolean().Value();
    const size_t held = held_bytes();
    try {
      if (device_ < 0) {
        data_ = static_cast<char*>(tf::host::alloc(bytes_));
        if (!data_) throw Napi::Error::New(env, "Storage: out of memory allocating " + std::to_string(bytes_) + " bytes");
        if (zero) std::memset(data_, 0, bytes_);
      } else {
        tf::cuda::select_device(device_);
        data_ = static_cast<char*>(tf::cuda::alloc(bytes_));
        if (zero) tf::cuda::zero(data_, bytes_);
      }
    } catch (const tf::cuda::Error& e) {
      throw Napi::Error::New(env, std::string("Storage: ") + e.what());  // the message names the device
    }
    report_growth(env, held);
  }
  ~Storage() override { Free(); }

  char* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  int device() const { return device_; }
  bool alive() const { return data_ != nullptr; }
  uint64_t id() const { return id_; }
  uint64_t version() const { return version_; }
  void written() { ++version_; }

 private:
  void Free() {
    if (!data_) return;
    const size_t held = held_bytes();
    if (device_ < 0) tf::host::release(data_, bytes_);
    else tf::cuda::release(data_);
    tf::pack_cache::forget(id_);
    data_ = nullptr;
    report_growth(Env(), held);
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Free();
    return info.Env().Undefined();
  }
  Napi::Value ByteLength(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(bytes_)); }
  Napi::Value Device(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), data_ == nullptr); }
  void CheckRange(Napi::Env env, double off, double len, const char* what) {
    if (!data_) throw Napi::Error::New(env, std::string(what) + ": buffer was disposed");
    if (!(off >= 0) || !(len >= 0) || off != std::floor(off) || len != std::floor(len) || off + len > static_cast<double>(bytes_))
      throw Napi::RangeError::New(env, std::string(what) + ": range [" + std::to_string(off) + ", +" + std::to_string(len) +
                                           ") is outside the buffer of " + std::to_string(bytes_) + " bytes");
  }
  // len bytes from src (on src_device) to dst (on this storage's device, or the host when dst_device < 0)
  static void Move(Napi::Env env, char* dst, int dst_device, const char* src, int src_device, size_t len, const char* what) {
    if (!len) return;
    try {
      if (dst_device < 0 && src_device < 0) std::memmove(dst, src, len);
      else if (dst_device < 0) tf::cuda::copy_to_host(dst, src, len);
      else if (src_device < 0) tf::cuda::copy_to_device(dst, src, len);
      else tf::cuda::copy_on_device(dst, src, len);
    } catch (const tf::cuda::Error& e) {
      throw Napi::Error::New(env, std::string(what) + ": " + e.what());
    }
  }
  // read(byteOffset, byteLength) -> a copy as an ArrayBuffer
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "read: expects (byteOffset, byteLength)");
    double off = info[0].As<Napi::Number>().DoubleValue(), len = info[1].As<Napi::Number>().DoubleValue();
    CheckRange(env, off, len, "read");
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, static_cast<size_t>(len));
    Move(env, static_cast<char*>(ab.Data()), -1, data_ + static_cast<size_t>(off), device_, static_cast<size_t>(len), "read");
    return ab;
  }
  // write(byteOffset, TypedArray | ArrayBuffer)
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "write: expects (byteOffset, TypedArray)");
    const char* src;
    size_t len;
    if (info[1].IsTypedArray()) {
      Napi::TypedArray t = info[1].As<Napi::TypedArray>();
      src = static_cast<const char*>(t.ArrayBuffer().Data()) + t.ByteOffset();
      len = t.ByteLength();
    } else if (info[1].IsArrayBuffer()) {
      Napi::ArrayBuffer a = info[1].As<Napi::ArrayBuffer>();
      src = static_cast<const char*>(a.Data());
      len = a.ByteLength();
    } else {
      throw Napi::TypeError::New(env, "write: data must be a TypedArray or ArrayBuffer");
    }
    double off = info[0].As<Napi::Number>().DoubleValue();
    CheckRange(env, off, static_cast<double>(len), "write");
    Move(env, data_ + static_cast<size_t>(off), device_, src, -1, len, "write");
    written();
    return env.Undefined();
  }
  // copyFrom(src Storage, srcByteOffset, dstByteOffset, byteLength): between any two storages,
  // host or device
  Napi::Value CopyFrom(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() != 4 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ctor(env)) || !info[1].IsNumber() ||
        !info[2].IsNumber() || !info[3].IsNumber())
      throw Napi::TypeError::New(env, "copyFrom: expects (Storage, srcByteOffset, dstByteOffset, byteLength)");
    Storage* src = Unwrap(info[0].As<Napi::Object>());
    double so = info[1].As<Napi::Number>().DoubleValue(), doff = info[2].As<Napi::Number>().DoubleValue();
    double len = info[3].As<Napi::Number>().DoubleValue();
    src->CheckRange(env, so, len, "copyFrom (source)");
    CheckRange(env, doff, len, "copyFrom");
    Move(env, data_ + static_cast<size_t>(doff), device_, src->data_ + static_cast<size_t>(so), src->device_, static_cast<size_t>(len),
         "copyFrom");
    written();
    return env.Undefined();
  }

  char* data_ = nullptr;
  size_t bytes_ = 0;
  int device_ = -1;
  uint64_t id_ = next_storage_id.fetch_add(1);
  uint64_t version_ = 0;
};

[[noreturn]] void arg_error(Napi::Env env, const std::string& op, const std::string& what) {
  throw Napi::TypeError::New(env, op + ": " + what);
}

// `what` + `part` names the field in the error; the message is only built when there is one (this
// runs for every field of every view of every op call)
double int_field(Napi::Env env, const std::string& op, Napi::Value v, const std::string& what, const char* part, double lo, double hi) {
  if (!v.IsNumber()) arg_error(env, op, what + part + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || d != std::floor(d))
    arg_error(env, op, what + part + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(d));
  return d;
}
double int_field(Napi::Env env, const std::string& op, Napi::Value v, const std::string& what, double lo, double hi) {
  return int_field(env, op, v, what, "", lo, hi);
}

// [storage, dtype, offset, shape[], strides[]] -> View, checked to lie inside the storage and to
// live where the backend computes (host memory for cpu/ref, the device for cuda)
View to_view(Napi::Env env, const std::string& op, Napi::Value v, const std::string& what, bool on_device, Storage** owner) {
  if (!v.IsArray()) arg_error(env, op, what + " must be [storage, dtype, offset, shape, strides]");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() != 5) arg_error(env, op, what + " must have 5 fields");
  Napi::Value sv = a.Get(0u);
  if (!sv.IsObject() || !sv.As<Napi::Object>().InstanceOf(Storage::ctor(env)))
    arg_error(env, op, what + ": field 0 must be a Storage");
  Storage* s = Storage::Unwrap(sv.As<Napi::Object>());
  if (!s->alive()) throw Napi::Error::New(env, op + ": " + what + " uses a disposed tensor");
  if ((s->device() >= 0) != on_device)
    throw Napi::Error::New(env, op + ": " + what + " is on " + (s->device() >= 0 ? "cuda:" + std::to_string(s->device()) : std::string("cpu")) +
                                    " but the op runs on the " + (on_device ? "cuda" : "cpu") + " backend");
  View view;
  view.dtype = static_cast<DType>(int_field(env, op, a.Get(1u), what, " dtype", 0, tf::kNumDTypes - 1));
  double offset = int_field(env, op, a.Get(2u), what, " offset", 0, 9007199254740991.0);
  Napi::Value shv = a.Get(3u), stv = a.Get(4u);
  if (!shv.IsArray() || !stv.IsArray()) arg_error(env, op, what + " shape and strides must be arrays");
  Napi::Array sh = shv.As<Napi::Array>(), st = stv.As<Napi::Array>();
  if (sh.Length() > static_cast<uint32_t>(tf::kMaxRank) || sh.Length() != st.Length())
    arg_error(env, op, what + " must have rank <= 6 and one stride per dim");
  view.rank = static_cast<int>(sh.Length());
  double max_off = offset, numel = 1;
  for (int d = 0; d < view.rank; ++d) {
    view.shape[d] = static_cast<int64_t>(int_field(env, op, sh.Get(d), what, " size", 0, 9007199254740991.0));
    view.strides[d] = static_cast<int64_t>(int_field(env, op, st.Get(d), what, " stride", 0, 9007199254740991.0));
    numel *= static_cast<double>(view.shape[d]);
    if (view.shape[d] > 0) max_off += static_cast<double>(view.shape[d] - 1) * static_cast<double>(view.strides[d]);
  }
  int es = tf::dtype_size(view.dtype);
  if (numel > 0 && (max_off + 1) * es > static_cast<double>(s->bytes()))
    throw Napi::RangeError::New(env, op + ": " + what + " (offset " + std::to_string(static_cast<int64_t>(offset)) + ", shape " +
                                         tf::shape_str(view) + ") reaches past its buffer of " + std::to_string(s->bytes()) + " bytes");
  view.data = s->data() + static_cast<size_t>(offset) * es;
  view.storage_id = s->id();
  view.version = s->version();
  *owner = s;
  return view;
}

bool strided_output_ok(tf::Op op) {
  using tf::Op;
  tf::OpKind k = tf::op_kind(op);
  return k != tf::OpKind::other || op == Op::copy || op == Op::fill || op == Op::clamp || op == Op::clamp_backward ||
         op == Op::where || op == Op::masked_fill || op == Op::rand_uniform || op == Op::rand_normal ||
         op == Op::attention;  // every backend writes its output through strides: (B, S, H, Dv) order
}

// run(op, backend, inputs, outputs | null, attrs) -> [[storage, shape, dtype id], ...] for new outputs
Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5) throw Napi::TypeError::New(env, "run: expects (op, backend, inputs, outputs, attrs)");
  int op_id = -1;
  if (info[0].IsString()) op_id = tf::op_from_name(info[0].As<Napi::String>().Utf8Value());
  else if (info[0].IsNumber()) op_id = static_cast<int>(int_field(env, "run", info[0], "op id", 0, tf::kNumOps - 1));
  if (op_id < 0) throw Napi::TypeError::New(env, "run: unknown op " + (info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string("?")));
  tf::OpCall call;
  call.op = static_cast<tf::Op>(op_id);
  std::string name = tf::op_name(call.op);
  auto backend = static_cast<tf::Backend>(int_field(env, name, info[1], "backend", 0, tf::kNumBackends - 1));
  call.on_device = backend == tf::Backend::cuda;
  if (call.on_device && tf::cuda::device_count() == 0)
    throw Napi::Error::New(env, name + ": the cuda backend has no device (" + tf::cuda::unavailable_reason() + ")");
  if (!info[2].IsArray()) arg_error(env, name, "inputs must be an array");
  Napi::Array ins = info[2].As<Napi::Array>();
  if (ins.Length() > 4096) arg_error(env, name, "too many inputs");
  // the buffers this call writes: its outputs, and the inputs an optimizer step updates in place
  std::vector<Storage*> writes;
  const bool updates_inputs = call.op == tf::Op::adamw_step || call.op == tf::Op::sgd_step;
  for (uint32_t i = 0; i < ins.Length(); ++i) {
    Storage* s = nullptr;
    call.in.push_back(to_view(env, name, ins.Get(i), "input " + std::to_string(i), call.on_device, &s));
    if (updates_inputs) writes.push_back(s);
  }
  bool provided = !info[3].IsNull() && !info[3].IsUndefined();
  if (provided) {
    if (!info[3].IsArray()) arg_error(env, name, "outputs must be an array or null");
    Napi::Array outs = info[3].As<Napi::Array>();
    if (outs.Length() > 8) arg_error(env, name, "too many outputs");
    for (uint32_t i = 0; i < outs.Length(); ++i) {
      Storage* s = nullptr;
      View v = to_view(env, name, outs.Get(i), "output " + std::to_string(i), call.on_device, &s);
      writes.push_back(s);
      if (!strided_output_ok(call.op) && !v.contiguous()) arg_error(env, name, "output " + std::to_string(i) + " must be contiguous");
      call.out.push_back(v);
    }
  }
  if (!info[4].IsArray()) arg_error(env, name, "attrs must be an array of numbers");
  Napi::Array at = info[4].As<Napi::Array>();
  if (at.Length() > 64) arg_error(env, name, "too many attrs");
  for (uint32_t i = 0; i < at.Length(); ++i) {
    Napi::Value a = at.Get(i);
    if (!a.IsNumber()) arg_error(env, name, "attr " + std::to_string(i) + " must be a number");
    call.attrs.push_back(a.As<Napi::Number>().DoubleValue());
  }
  Napi::Array result = Napi::Array::New(env);
  try {
    std::vector<tf::OutSpec> specs;
    tf::infer(call, specs);
    if (provided) {
      tf::check_outputs(call, specs);
    } else {
      for (size_t i = 0; i < specs.size(); ++i) {
        const tf::OutSpec& s = specs[i];
        double numel = 1;
        for (int d = 0; d < s.rank; ++d) numel *= static_cast<double>(s.shape[d]);
        Napi::Object so = Storage::ctor(env).New({Napi::Number::New(env, numel * tf::dtype_size(s.dtype)), Napi::Boolean::New(env, false),
                                                  Napi::Number::New(env, call.on_device ? tf::cuda::active_device() : -1)});
        View v;
        v.data = Storage::Unwrap(so)->data();
        v.dtype = s.dtype;
        v.rank = s.rank;
        Napi::Array shape = Napi::Array::New(env, static_cast<size_t>(s.rank));
        for (int d = 0; d < s.rank; ++d) {
          v.shape[d] = s.shape[d];
          shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(s.shape[d])));
        }
        tf::set_contiguous_strides(v);
        call.out.push_back(v);
        Napi::Array pair = Napi::Array::New(env, 3);
        pair.Set(0u, so);
        pair.Set(1u, shape);
        pair.Set(2u, Napi::Number::New(env, static_cast<double>(s.dtype)));
        result.Set(static_cast<uint32_t>(i), pair);
      }
    }
    for (Storage* s : writes) s->written();  // before the kernel: a failed call may have written too
    tf::run(backend, call);
  } catch (const tf::OpError& e) {
    throw Napi::Error::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, name + ": out of memory");
  } catch (const std::exception& e) {  // e.g. tf::cuda::Error: never let a C++ exception end the process
    throw Napi::Error::New(env, name + ": " + e.what());
  }
  return result;
}

Napi::Value OpNames(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env(), tf::kNumOps);
  for (int i = 0; i < tf::kNumOps; ++i) a.Set(static_cast<uint32_t>(i), tf::op_name(static_cast<tf::Op>(i)));
  return a;
}

Napi::Value Supports(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto b = static_cast<tf::Backend>(int_field(env, "supports", info[0], "backend", 0, tf::kNumBackends - 1));
  if (!info[1].IsString()) arg_error(env, "supports", "op must be a string");
  int op = tf::op_from_name(info[1].As<Napi::String>().Utf8Value());
  return Napi::Boolean::New(env, op >= 0 && tf::supports(b, static_cast<tf::Op>(op)));
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isaDetected", tf::isa_name(tf::detected_isa()));
  o.Set("isa", tf::isa_name(tf::active_isa()));
  o.Set("vnni", tf::cpu_has_vnni());
  o.Set("threads", tf::max_threads());
#ifdef _OPENMP
  o.Set("openmp", true);
#else
  o.Set("openmp", false);
#endif
  o.Set("packCacheBytes", static_cast<double>(tf::pack_cache::bytes()));
  o.Set("cudaBuilt", tf::cuda::built());
  o.Set("cudaDevices", tf::cuda::device_count());
  o.Set("cudaReason", tf::cuda::unavailable_reason());
  if (tf::cuda::device_count() > 0) o.Set("cudaDevice", tf::cuda::device_name(0));
  return o;
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) arg_error(env, "setIsa", "expects a name: scalar, avx2, avx512, avx512_bf16");
  std::string want = info[0].As<Napi::String>().Utf8Value();
  for (int i = 0; i <= static_cast<int>(tf::Isa::avx512_bf16); ++i)
    if (want == tf::isa_name(static_cast<tf::Isa>(i))) return Napi::String::New(env, tf::isa_name(tf::set_isa(static_cast<tf::Isa>(i))));
  throw Napi::RangeError::New(env, "setIsa: unknown ISA " + want + " (scalar, avx2, avx512, avx512_bf16)");
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int n = static_cast<int>(int_field(env, "setThreads", info[0], "threads", 1, 1024));
#ifdef _OPENMP
  omp_set_num_threads(n);
#else
  (void)n;
#endif
  return Napi::Number::New(env, tf::max_threads());
}

// ceiling(kind, seconds): this machine's peak rate of `kind` (fma_f32, bf16_dot, int8_dot: G op/s;
// copy: GB/s read + written) on the current threads
Napi::Value Ceiling(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsNumber()) arg_error(env, "ceiling", "expects (kind, seconds)");
  std::string kind = info[0].As<Napi::String>().Utf8Value();
  double s = info[1].As<Napi::Number>().DoubleValue();
  if (!(s > 0 && s <= 60)) throw Napi::RangeError::New(env, "ceiling: seconds must be in (0, 60]");
  if (kind == "fma_f32") return Napi::Number::New(env, tf::ceiling::fma_f32_gflops(s));
  if (kind == "bf16_dot") return Napi::Number::New(env, tf::ceiling::bf16_dot_gflops(s));
  if (kind == "int8_dot") return Napi::Number::New(env, tf::ceiling::int8_dot_gops(s));
  if (kind == "copy") return Napi::Number::New(env, tf::ceiling::copy_gbps(s));
  throw Napi::RangeError::New(env, "ceiling: unknown kind " + kind + " (fma_f32, bf16_dot, int8_dot, copy)");
}

Napi::Value HostCache(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].ToBoolean().Value()) {
    const size_t held = held_bytes();
    tf::host::empty_cache();
    report_growth(info.Env(), held);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(tf::host::cached_bytes()));
}

// cudaMemory(what): 'stats' -> {allocated, reserved, peak} bytes of the device allocator;
// 'resetPeak', 'emptyCache' (cached blocks back to the driver), 'synchronize' (wait for the stream)
Napi::Value CudaMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) arg_error(env, "cudaMemory", "expects 'stats', 'resetPeak', 'emptyCache' or 'synchronize'");
  std::string what = info[0].As<Napi::String>().Utf8Value();
  try {
    if (what == "stats") {
      tf::cuda::MemoryStats m = tf::cuda::memory_stats();
      Napi::Object o = Napi::Object::New(env);
      o.Set("allocated", static_cast<double>(m.allocated));
      o.Set("reserved", static_cast<double>(m.reserved));
      o.Set("peak", static_cast<double>(m.peak));
      return o;
    }
    if (what == "resetPeak") tf::cuda::reset_peak();
    else if (what == "emptyCache") {
      const size_t held = held_bytes();
      tf::cuda::empty_cache();
      report_growth(env, held);
    } else if (what == "synchronize") tf::cuda::synchronize();
    else arg_error(env, "cudaMemory", "unknown request " + what);
  } catch (const tf::cuda::Error& e) {
    throw Napi::Error::New(env, std::string("cuda ") + what + ": " + e.what());
  }
  return env.Undefined();
}

// cudaTf32(allow?): sets whether float32 GEMMs may run as TF32 on tensor cores; returns the setting
Napi::Value CudaTf32(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && !info[0].IsUndefined()) tf::cuda::set_allow_tf32(info[0].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), tf::cuda::allow_tf32());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaTf32", Napi::Function::New(env, CudaTf32));
  exports.Set("cudaMemory", Napi::Function::New(env, CudaMemory));
  exports.Set("hostCache", Napi::Function::New(env, HostCache));
  exports.Set("ceiling", Napi::Function::New(env, Ceiling));
  exports.Set("Storage", Storage::Init(env));
  exports.Set("run", Napi::Function::New(env, Run));
  exports.Set("opNames", Napi::Function::New(env, OpNames));
  exports.Set("supports", Napi::Function::New(env, Supports));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  return exports;
}

}  // namespace

NODE_API_MODULE(tensorforge, Init)
