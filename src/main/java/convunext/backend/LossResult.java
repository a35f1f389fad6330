package convunext.backend;

import convunext.tensor.Tensor;

/** Value of the CE + Dice loss, its two parts, and d loss / d logits. */
public record LossResult(double loss, double ce, double dice, Tensor dlogits) {}
