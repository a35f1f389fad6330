package convunext.backend.cpu;

import static convunext.backend.cpu.Parity.*;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefBatchNorm;
import convunext.backend.cpu.ref.RefLayerNorm;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * batchnorm (train with running statistics, eval, backward) and layernorm (forward, backward)
 * against the oracle; tolerance 1e-5 normwise for every output. Inputs have mean 3 so a
 * one-pass float variance would fail.
 */
class NormParityTest {
    private static final double TOL = 1e-5;

    @Test void batchnormTrainAndBackward() {
        Random r = new Random(11);
        int n = 2, c = 5, h = 13, w = 17;
        Tensor x = randn(r, 3, n, c, h, w), gamma = randn(r, 1, c), beta = randn(r, 0, c);
        Tensor rm = randn(r, 0, c), rv = uniform(r, 0.5, 2, c), dy = randn(r, 0.2, n, c, h, w);
        D refRm = d(rm), refRv = d(rv);
        D[] ref = RefBatchNorm.batchnormTrain(d(x), d(gamma), d(beta), refRm, refRv, 0.1, 1e-5);
        Tensor[] got = BE.batchnormTrain(x, gamma, beta, rm, rv, 0.1f, 1e-5f);
        check("bn y", ref[0], got[0], TOL);
        check("bn mean", ref[1], got[1], TOL);
        check("bn invstd", ref[2], got[2], TOL);
        check("bn running_mean", refRm, rm, TOL);
        check("bn running_var", refRv, rv, TOL);
        D[] refB = RefBatchNorm.batchnormBackward(d(x), d(dy), d(gamma), d(got[1]), d(got[2]));
        Tensor[] gotB = BE.batchnormBackward(x, dy, gamma, got[1], got[2]);
        check("bn dx", refB[0], gotB[0], TOL);
        check("bn dgamma", refB[1], gotB[1], TOL);
        check("bn dbeta", refB[2], gotB[2], TOL);
    }

    @Test void batchnormEval() {
        Random r = new Random(12);
        int n = 2, c = 5, h = 7, w = 9;
        Tensor x = randn(r, 1, n, c, h, w), gamma = randn(r, 1, c), beta = randn(r, 0, c);
        Tensor rm = randn(r, 0, c), rv = uniform(r, 0.5, 2, c);
        check("bn eval", RefBatchNorm.batchnormEval(d(x), d(gamma), d(beta), d(rm), d(rv), 1e-5),
                BE.batchnormEval(x, gamma, beta, rm, rv, 1e-5f), TOL);
    }

    @Test void layernormForwardBackward() {
        for (int[] s : new int[][] {{2, 5, 13, 17}, {1, 37, 23, 29}}) {
            Random r = new Random(13 + s[1]);
            Tensor x = randn(r, 3, s), gamma = randn(r, 1, s[1]), beta = randn(r, 0, s[1]), dy = randn(r, 0.2, s);
            D[] ref = RefLayerNorm.layernorm(d(x), d(gamma), d(beta), 1e-6);
            Tensor[] got = BE.layernorm(x, gamma, beta, 1e-6f);
            check("ln y", ref[0], got[0], TOL);
            check("ln mean", ref[1], got[1], TOL);
            check("ln invstd", ref[2], got[2], TOL);
            D[] refB = RefLayerNorm.layernormBackward(d(x), d(dy), d(gamma), d(got[1]), d(got[2]));
            Tensor[] gotB = BE.layernormBackward(x, dy, gamma, got[1], got[2]);
            check("ln dx", refB[0], gotB[0], TOL);
            check("ln dgamma", refB[1], gotB[1], TOL);
            check("ln dbeta", refB[2], gotB[2], TOL);
        }
    }
}
