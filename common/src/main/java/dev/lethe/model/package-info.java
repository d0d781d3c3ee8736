/**
 * Models: the paper's CNN and the MLP / logistic-regression options ({@link dev.lethe.model.Models}), Adam training
 * with early stopping ({@link dev.lethe.model.Trainer}), prediction and model files.
 */
package dev.lethe.model;
