/**
 * Lethe: finds the training examples responsible for a classifier's failures and makes the model forget them
 * (Tanno, Pradier, Nori, Li, "Repairing Neural Networks by Leaving the Right Past Behind", NeurIPS 2022).
 * This module is engine-free: no Spark. Sub-packages: {@code data} (examples, IDX, noise), {@code model}
 * (architectures, training, serialisation), {@code math} (per-example gradients, Fisher, solvers),
 * {@code influence} (cause identification), {@code repair} (erasing the culprits' influence), {@code config} (validated options).
 */
package dev.lethe;
