import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { createServices } from './bridge.ts';
import { ServicesContext } from './store/context.tsx';
import './styles.css';

const services = createServices();
// Tests and curious people can reach the client from the console.
(window as unknown as { sploots: unknown }).sploots = services;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ServicesContext.Provider value={services}>
      <App />
    </ServicesContext.Provider>
  </StrictMode>,
);
