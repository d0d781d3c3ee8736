/**
 * Configuration: {@link dev.lethe.config.LetheConfig} layers conf/reference.conf (every key, documented), an
 * optional HOCON file and {@code --set key=value} overrides, rejects unknown keys and reports bad values as
 * {@link dev.lethe.LetheInputException} naming the key.
 */
package dev.lethe.config;
