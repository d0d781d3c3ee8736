/**
 * Models: the paper's CNN and the MLP / logistic-regression options ({@link dev.lethe.model.Models}), Adam training
 * with early stopping ({@link dev.lethe.model.Trainer}), prediction and model files; a user's trained classifier read
 * into its inference form ({@link dev.lethe.model.ModelImport}), where a ComputationGraph that is not a chain runs as
 * one {@link dev.lethe.model.GraphBody} layer and its head.
 */
package dev.lethe.model;
