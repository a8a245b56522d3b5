// Automatic distillation nodes: where the student is compared with the teacher when the user names none.
//
// 1. The weighted nodes are the ones carrying trainable weights: Conv, ConvTranspose, Gemm, and MatMul with a
//    constant operand (ir::QuantizableNodes).
// 2. A weighted node is final when no weighted node lies downstream of it.
// 3. Each final node's value is its output, or the output of a directly following bias Add (constant other
//    operand) or BatchNormalization when there is one, so the value compared is the layer's complete result.
// So a classifier yields its last Gemm/MatMul, a detector one value per head branch, an OCR recognizer the
// logits before its Softmax. Post-processing after these values never runs during distillation training.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace act::distill {

struct DistillNode {
  std::string node;   // name of the final weighted node
  std::string value;  // the value compared between teacher and student
};

std::vector<DistillNode> FindDistillationNodes(const ir::Graph& graph);

}  // namespace act::distill
