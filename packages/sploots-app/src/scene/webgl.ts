/**
 * Ask for a WebGL2 context ourselves before three.js does: three logs a console error when it
 * cannot get one, and headless or GPU-less browsers often cannot.
 */
export function tryWebGL2(canvas: HTMLCanvasElement): WebGL2RenderingContext | null {
  try {
    return canvas.getContext('webgl2', { antialias: true, alpha: true, powerPreference: 'low-power' });
  } catch {
    return null;
  }
}
