#include "ir/onnx_io.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/file_util.h"

namespace act::ir {
namespace {

const std::set<std::string> kKnownDomains = {"", "ai.onnx", "ai.onnx.ml", "act", "com.microsoft"};

std::vector<Dim> DimsFromProto(const onnx::TensorShapeProto& shape) {
  std::vector<Dim> dims;
  for (const auto& d : shape.dim()) {
    Dim dim;
    if (d.has_dim_value()) dim.value = d.dim_value();
    else if (d.has_dim_param()) dim.symbol = d.dim_param();
    dims.push_back(dim);
  }
  return dims;
}

ValueInfo ValueInfoFromProto(const onnx::ValueInfoProto& proto) {
  ValueInfo info;
  info.name = proto.name();
  if (proto.type().has_tensor_type()) {
    const auto& tt = proto.type().tensor_type();
    info.dtype = static_cast<DType>(tt.elem_type());
    if (tt.has_shape()) info.shape = DimsFromProto(tt.shape());
  }
  return info;
}

void ValueInfoToProto(const ValueInfo& info, onnx::ValueInfoProto* proto) {
  proto->set_name(info.name);
  auto* tt = proto->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(info.dtype));
  if (info.shape) {
    auto* shape = tt->mutable_shape();
    for (const Dim& d : *info.shape) {
      auto* dim = shape->add_dim();
      if (d.known()) dim->set_dim_value(d.value);
      else if (!d.symbol.empty()) dim->set_dim_param(d.symbol);
    }
  }
}

// Copies a repeated field of type Src into a tensor of dtype `dtype`, converting element-wise.
template <typename Dst, typename Field>
Tensor FromRepeated(DType dtype, const Shape& shape, const Field& field) {
  Tensor t(dtype, shape);
  Dst* p = t.data<Dst>();
  for (int i = 0; i < field.size() && i < t.numel(); ++i) p[i] = static_cast<Dst>(field.Get(i));
  return t;
}

Expected<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& base_dir,
                                 const std::string& where) {
  const DType dtype = static_cast<DType>(proto.data_type());
  Shape shape(proto.dims().begin(), proto.dims().end());
  if (dtype == DType::kString) return Unsupported(where + ": string tensors are not supported");
  if (DTypeSize(dtype) == 0) {
    return Unsupported(where + ": tensor data type " + std::to_string(proto.data_type()) + " is not supported");
  }
  for (int64_t d : shape) if (d < 0) return InvalidInput(where + ": tensor has a negative dimension");
  const size_t nbytes = static_cast<size_t>(NumElements(shape)) * DTypeSize(dtype);

  if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : proto.external_data()) {
      if (kv.key() == "location") location = kv.value();
      else if (kv.key() == "offset") offset = std::stoll(kv.value());
      else if (kv.key() == "length") length = std::stoll(kv.value());
    }
    const std::string file = JoinPath(base_dir, location);
    std::ifstream in(file, std::ios::binary);
    if (!in) return NotFound(where + ": external data file '" + file + "' is missing; keep it beside the model");
    if (length >= 0 && static_cast<size_t>(length) != nbytes) {
      return InvalidInput(where + ": external data length " + std::to_string(length) + " does not match " +
                          std::to_string(nbytes) + " bytes of " + DTypeName(dtype) + ShapeToString(shape));
    }
    Tensor t(dtype, shape);
    in.seekg(offset);
    in.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(nbytes));
    if (static_cast<size_t>(in.gcount()) != nbytes) {
      return InvalidInput(where + ": external data file '" + file + "' is truncated");
    }
    return t;
  }
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != nbytes) {
      return InvalidInput(where + ": raw data has " + std::to_string(proto.raw_data().size()) + " bytes, " +
                          DTypeName(dtype) + ShapeToString(shape) + " needs " + std::to_string(nbytes));
    }
    return Tensor::FromBytes(dtype, shape, proto.raw_data().data(), nbytes);
  }
  // Typed fields; ONNX stores the small integer types and float16 in int32_data.
  Expected<Tensor> out = Status(InvalidInput(where + ": tensor has no data"));
  int64_t stored = 0;
  switch (dtype) {
    case DType::kFloat32: out = FromRepeated<float>(dtype, shape, proto.float_data()); stored = proto.float_data_size(); break;
    case DType::kFloat64: out = FromRepeated<double>(dtype, shape, proto.double_data()); stored = proto.double_data_size(); break;
    case DType::kInt64: out = FromRepeated<int64_t>(dtype, shape, proto.int64_data()); stored = proto.int64_data_size(); break;
    case DType::kUInt32: case DType::kUInt64:
      out = dtype == DType::kUInt32 ? FromRepeated<uint32_t>(dtype, shape, proto.uint64_data())
                                    : FromRepeated<uint64_t>(dtype, shape, proto.uint64_data());
      stored = proto.uint64_data_size(); break;
    case DType::kInt32: out = FromRepeated<int32_t>(dtype, shape, proto.int32_data()); stored = proto.int32_data_size(); break;
    case DType::kInt16: out = FromRepeated<int16_t>(dtype, shape, proto.int32_data()); stored = proto.int32_data_size(); break;
    case DType::kUInt16: case DType::kFloat16: case DType::kBFloat16:
      out = FromRepeated<uint16_t>(dtype, shape, proto.int32_data()); stored = proto.int32_data_size(); break;
    case DType::kInt8: out = FromRepeated<int8_t>(dtype, shape, proto.int32_data()); stored = proto.int32_data_size(); break;
    case DType::kUInt8: out = FromRepeated<uint8_t>(dtype, shape, proto.int32_data()); stored = proto.int32_data_size(); break;
    case DType::kBool: out = FromRepeated<bool>(dtype, shape, proto.int32_data()); stored = proto.int32_data_size(); break;
    default: return Unsupported(where + ": tensor data type " + DTypeName(dtype) + " is not supported");
  }
  if (stored != NumElements(shape)) {
    return InvalidInput(where + ": tensor holds " + std::to_string(stored) + " values, shape " +
                        ShapeToString(shape) + " needs " + std::to_string(NumElements(shape)));
  }
  return out;
}

void TensorToProto(const Tensor& t, const std::string& name, onnx::TensorProto* proto) {
  proto->set_name(name);
  proto->set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.shape()) proto->add_dims(d);
  proto->set_raw_data(t.raw_data(), t.nbytes());
}

Expected<Attribute> AttributeFromProto(const onnx::AttributeProto& proto, const std::string& base_dir,
                                       const std::string& where) {
  using AP = onnx::AttributeProto;
  switch (proto.type()) {
    case AP::INT: return Attribute::Int(proto.i());
    case AP::FLOAT: return Attribute::Float(proto.f());
    case AP::STRING: return Attribute::String(proto.s());
    case AP::INTS: return Attribute::Ints({proto.ints().begin(), proto.ints().end()});
    case AP::FLOATS: return Attribute::Floats({proto.floats().begin(), proto.floats().end()});
    case AP::STRINGS: return Attribute::Strings({proto.strings().begin(), proto.strings().end()});
    case AP::TENSOR: {
      ACT_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(proto.t(), base_dir, where + " attribute '" + proto.name() + "'"));
      return Attribute::TensorValue(std::move(t));
    }
    default: {
      Attribute a;
      a.kind = Attribute::Kind::kOpaque;
      a.s = proto.SerializeAsString();
      return a;
    }
  }
}

void AttributeToProto(const std::string& name, const Attribute& a, onnx::AttributeProto* proto) {
  using AP = onnx::AttributeProto;
  if (a.kind == Attribute::Kind::kOpaque) {
    proto->ParseFromString(a.s);
    return;
  }
  proto->set_name(name);
  switch (a.kind) {
    case Attribute::Kind::kInt: proto->set_type(AP::INT); proto->set_i(a.i); break;
    case Attribute::Kind::kFloat: proto->set_type(AP::FLOAT); proto->set_f(a.f); break;
    case Attribute::Kind::kString: proto->set_type(AP::STRING); proto->set_s(a.s); break;
    case Attribute::Kind::kInts: proto->set_type(AP::INTS); for (auto v : a.ints) proto->add_ints(v); break;
    case Attribute::Kind::kFloats: proto->set_type(AP::FLOATS); for (auto v : a.floats) proto->add_floats(v); break;
    case Attribute::Kind::kStrings: proto->set_type(AP::STRINGS); for (auto& v : a.strings) proto->add_strings(v); break;
    case Attribute::Kind::kTensor: proto->set_type(AP::TENSOR); TensorToProto(a.t, "", proto->mutable_t()); break;
    case Attribute::Kind::kOpaque: break;
  }
}

Expected<Graph> GraphFromProto(const onnx::ModelProto& model, const std::string& name,
                               const std::string& base_dir, const LoadOptions& options) {
  Graph g;
  g.ir_version = model.ir_version();
  g.producer_name = model.producer_name();
  g.producer_version = model.producer_version();
  g.doc_string = model.doc_string();
  for (const auto& op : model.opset_import()) g.opset_imports[op.domain() == "ai.onnx" ? "" : op.domain()] = op.version();
  for (const auto& kv : model.metadata_props()) g.metadata_props.emplace_back(kv.key(), kv.value());
  const auto& graph = model.graph();
  g.name = graph.name();

  for (const auto& init : graph.initializer()) {
    ACT_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(init, base_dir, name + ": initializer '" + init.name() + "'"));
    if (!g.initializers.emplace(init.name(), std::move(t)).second) {
      return InvalidInput(name + ": initializer '" + init.name() + "' is defined twice");
    }
  }
  if (graph.sparse_initializer_size() > 0) {
    return Unsupported(name + ": sparse initializers are not supported; densify them before compressing");
  }
  for (const auto& in : graph.input()) {
    if (g.initializers.count(in.name())) continue;  // older exports list initializers as inputs
    g.inputs.push_back(ValueInfoFromProto(in));
  }
  for (const auto& out : graph.output()) g.outputs.push_back(ValueInfoFromProto(out));
  for (const auto& vi : graph.value_info()) g.value_info[vi.name()] = ValueInfoFromProto(vi);

  int unnamed = 0;
  for (const auto& np : graph.node()) {
    Node node;
    node.name = np.name();
    node.op_type = np.op_type();
    node.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    node.doc_string = np.doc_string();
    if (!options.allow_unknown_domains && !kKnownDomains.count(node.domain)) {
      return Unsupported(name + ": node " + node.Describe() + " uses unknown domain '" + node.domain +
                         "'; only ai.onnx, ai.onnx.ml and com.microsoft ops are supported");
    }
    node.inputs.assign(np.input().begin(), np.input().end());
    node.outputs.assign(np.output().begin(), np.output().end());
    if (node.name.empty()) {
      // Unnamed nodes get a stable name from their first output, so messages and configs can name them.
      node.name = node.outputs.empty() ? node.op_type + "_" + std::to_string(unnamed++)
                                       : node.op_type + "_" + node.outputs[0];
    }
    for (const auto& ap : np.attribute()) {
      ACT_ASSIGN_OR_RETURN(Attribute a, AttributeFromProto(ap, base_dir, name + ": node " + node.Describe()));
      node.attributes[ap.name()] = std::move(a);
    }
    g.nodes.push_back(std::move(node));
  }
  if (Status s = g.Validate(); !s.ok()) return s.WithContext(name);
  return g;
}

}  // namespace

Expected<Graph> ParseModel(const std::string& bytes, const std::string& name, const std::string& base_dir,
                           const LoadOptions& options) {
  onnx::ModelProto model;
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX)));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT_MAX);
  if (bytes.empty()) return InvalidInput(name + ": file is empty, not an ONNX model");
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
    return InvalidInput(name + ": not a valid ONNX model (protobuf parse failed: the file is truncated or not ONNX)");
  }
  if (!model.has_graph() || model.opset_import_size() == 0 || model.ir_version() <= 0) {
    return InvalidInput(name + ": not an ONNX model (no graph, ir_version or opset_import)");
  }
  return GraphFromProto(model, name, base_dir, options);
}

Expected<Graph> LoadModel(const std::string& path, const LoadOptions& options) {
  ACT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return ParseModel(bytes, path, DirName(path), options);
}

namespace {

void BuildProto(const Graph& g, onnx::ModelProto* model) {
  model->set_ir_version(g.ir_version);
  model->set_producer_name(g.producer_name);
  model->set_producer_version(g.producer_version);
  if (!g.doc_string.empty()) model->set_doc_string(g.doc_string);
  for (const auto& [domain, version] : g.opset_imports) {
    auto* op = model->add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  for (const auto& [k, v] : g.metadata_props) {
    auto* kv = model->add_metadata_props();
    kv->set_key(k);
    kv->set_value(v);
  }
  auto* graph = model->mutable_graph();
  graph->set_name(g.name.empty() ? "main" : g.name);
  for (const auto& v : g.inputs) ValueInfoToProto(v, graph->add_input());
  for (const auto& v : g.outputs) ValueInfoToProto(v, graph->add_output());
  for (const auto& [name, v] : g.value_info) {
    if (v.dtype != DType::kUndefined) ValueInfoToProto(v, graph->add_value_info());
  }
  for (const Node& n : g.nodes) {
    auto* np = graph->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    if (!n.domain.empty()) np->set_domain(n.domain);
    if (!n.doc_string.empty()) np->set_doc_string(n.doc_string);
    for (const auto& in : n.inputs) np->add_input(in);
    for (const auto& out : n.outputs) np->add_output(out);
    for (const auto& [key, a] : n.attributes) AttributeToProto(key, a, np->add_attribute());
  }
  for (const auto& [name, t] : g.initializers) TensorToProto(t, name, graph->add_initializer());
}

}  // namespace

Expected<std::string> SerializeModel(const Graph& graph) {
  onnx::ModelProto model;
  BuildProto(graph, &model);
  if (model.ByteSizeLong() > static_cast<size_t>(INT_MAX)) {
    return Unsupported("model '" + graph.name + "' is over 2 GB; save it with external data");
  }
  return model.SerializeAsString();
}

Status SaveModel(const Graph& graph, const std::string& path, const SaveOptions& options) {
  onnx::ModelProto model;
  BuildProto(graph, &model);
  int64_t total = 0;
  for (const auto& [name, t] : graph.initializers) total += static_cast<int64_t>(t.nbytes());
  if (options.force_external_data || total > options.external_data_threshold) {
    const std::string file_name = options.external_data_file.empty()
                                      ? std::filesystem::path(path).filename().string() + ".data"
                                      : options.external_data_file;
    std::string blob;
    for (auto& init : *model.mutable_graph()->mutable_initializer()) {
      if (static_cast<int64_t>(init.raw_data().size()) < options.external_min_bytes) continue;
      // Offsets aligned to 4 KiB so the data can be memory-mapped.
      blob.resize((blob.size() + 4095) / 4096 * 4096);
      const size_t offset = blob.size();
      blob += init.raw_data();
      init.clear_raw_data();
      init.set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
      auto add = [&](const std::string& k, const std::string& v) {
        auto* e = init.add_external_data();
        e->set_key(k);
        e->set_value(v);
      };
      add("location", file_name);
      add("offset", std::to_string(offset));
      add("length", std::to_string(blob.size() - offset));
    }
    ACT_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(DirName(path), file_name), blob));
  }
  if (model.ByteSizeLong() > static_cast<size_t>(INT_MAX)) {
    return Unsupported(path + ": the model is over 2 GB even without its weights");
  }
  return AtomicWriteFile(path, model.SerializeAsString());
}

}  // namespace act::ir
